/**
 * A child process for store.test.ts, run bundled (bundle.ts): it does one thing with a directory
 * store so that the test can race, block and SIGKILL real processes.
 *
 *   append ROOT ID COUNT          COUNT times: under the lock, append "ID i" to log.txt
 *   hold ROOT                     take the lock, print "locked", wait to be killed
 *   commit-and-die ROOT GEN STEP  commit caBatch(GEN), SIGKILL itself just before commit step STEP
 *   commit-loop ROOT              print "ready", then commit caBatch(2), caBatch(1), … slowly, forever
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openDirectoryStore } from '../../src/store/directory-store.js'
import { caBatch } from './store-batches.js'

async function run(args: string[]): Promise<void> {
  const [command, root, ...rest] = args
  if (root === undefined) throw new Error('usage: store-worker COMMAND ROOT …')
  switch (command) {
    case 'append': {
      const [id, count] = rest
      const store = openDirectoryStore(root)
      for (let i = 0; i < Number(count); i++) {
        await store.locked(async () => {
          const before = (await store.read('log.txt'))?.toString() ?? ''
          await sleep(Math.random() < 0.5 ? 0 : 1) // widen the window a broken lock would lose updates in
          await store.commit([{ path: 'log.txt', data: `${before}${id} ${i}\n` }])
        })
      }
      return
    }
    case 'hold': {
      const store = openDirectoryStore(root)
      await store.locked(async () => {
        process.stdout.write('locked\n')
        await new Promise(() => setInterval(() => undefined, 1000))
      })
      return
    }
    case 'commit-and-die': {
      const [generation, killAt] = rest
      const store = openDirectoryStore(root, {
        onCommitStep: (step) => {
          if (step === killAt) process.kill(process.pid, 'SIGKILL')
        },
      })
      await store.locked(() => store.commit(caBatch(Number(generation))))
      process.stdout.write('committed\n')
      return
    }
    case 'commit-loop': {
      // Renames are much quicker than fsynced staging; slowing them spreads random kills over both.
      const store = openDirectoryStore(root, {
        onCommitStep: (step) => (step.startsWith('apply:') ? sleep(1) : undefined),
      })
      process.stdout.write('ready\n')
      for (let g = 2; ; g = 3 - g) await store.locked(() => store.commit(caBatch(g)))
    }
    default:
      throw new Error(`unknown command ${command}`)
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  },
)
