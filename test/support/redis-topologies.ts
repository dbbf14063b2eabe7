import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './redis-server.ts';

/** A private redis-server process with extra arguments; resolves once its log shows `readyLine`. */
async function spawnRedis(args: string[], readyLine: string) {
  const dir = mkdtempSync(join(tmpdir(), 'war-redis-'));
  const child: ChildProcess = spawn('redis-server', [...args.map((a) => a.replaceAll('$DIR', dir))], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(readyLine)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`)));
  });
  return {
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A one-node Redis Cluster owning every slot (enough for ioredis' Cluster client). */
export async function startClusterNode() {
  const port = await freePort();
  const server = await spawnRedis(
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '$DIR',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      '$DIR/nodes.conf',
      '--cluster-announce-ip',
      '127.0.0.1',
    ],
    'Ready to accept connections',
  );
  spawnSync('redis-cli', ['-p', String(port), 'cluster', 'addslotsrange', '0', '16383']);
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'])
        .stdout.toString()
        .includes('cluster_state:ok')
    )
      break;
    await sleep(50);
  }
  return { port, stop: server.stop };
}

/** A Sentinel watching `masterPort` as 'mymaster' (quorum 1). */
export async function startSentinel(masterPort: number) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'war-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\n`,
  );
  const server = await spawnRedis([conf, '--sentinel'], '+monitor master mymaster');
  return {
    port,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
