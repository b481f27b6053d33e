import { describe, expect, it } from 'vitest';
import { parseArgs, remoteWorkbenchUrl } from './args.js';

describe('parseArgs', () => {
  it('defaults to a local engine with the default store', () => {
    expect(parseArgs(['dist/electron/main/main.js'])).toEqual({ ok: true, config: { mode: 'local', storePath: undefined, devUrl: undefined } });
  });

  it('reads --store PATH and --store=PATH', () => {
    expect(parseArgs(['main.js', '--store', '/tmp/a.db'])).toMatchObject({ ok: true, config: { mode: 'local', storePath: '/tmp/a.db' } });
    expect(parseArgs(['main.js', '--store=/tmp/b.db'])).toMatchObject({ ok: true, config: { mode: 'local', storePath: '/tmp/b.db' } });
  });

  it('ignores Chromium and Playwright switches around the known flags', () => {
    const argv = ['--inspect=0', '--remote-debugging-port=0', 'dist/electron/main/main.js', '--no-sandbox', '--store', '/tmp/x.db', '--enable-logging'];
    expect(parseArgs(argv)).toMatchObject({ ok: true, config: { mode: 'local', storePath: '/tmp/x.db' } });
  });

  it('reads --remote URL --token T', () => {
    expect(parseArgs(['main.js', '--remote', 'https://bench-01:8000/', '--token', 's3cret'])).toEqual({
      ok: true,
      config: { mode: 'remote', url: 'https://bench-01:8000', token: 's3cret' },
    });
  });

  it('remote mode: https://, or plain http only to this machine (the token would cross the network in clear)', () => {
    expect(parseArgs(['--remote', 'http://bench-01:8000'])).toMatchObject({ ok: false, message: expect.stringMatching(/clear text.*https:\/\//) });
    expect(parseArgs(['--remote', 'http://10.0.0.5:8000'])).toMatchObject({ ok: false });
    for (const url of ['http://127.0.0.1:8000', 'http://localhost:8000', 'http://[::1]:8000']) {
      expect(parseArgs(['--remote', url]), url).toMatchObject({ ok: true, config: { mode: 'remote' } });
    }
  });

  it('reads --serve-port (no HTTP port without it)', () => {
    expect(parseArgs(['--serve-port', '8000'])).toEqual({ ok: true, config: { mode: 'local', storePath: undefined, devUrl: undefined, servePort: 8000 } });
    expect(parseArgs(['--serve-port', '0'])).toMatchObject({ ok: true, config: { servePort: 0 } });
    expect(parseArgs([])).toEqual({ ok: true, config: { mode: 'local', storePath: undefined, devUrl: undefined } });
    expect(parseArgs(['--serve-port', '99999'])).toMatchObject({ ok: false, message: expect.stringMatching(/--serve-port/) });
    expect(parseArgs(['--serve-port', '1', '--remote', 'https://b'])).toMatchObject({ ok: false });
  });

  it('keeps a reverse-proxy path prefix and drops query and hash', () => {
    expect(parseArgs(['--remote', 'https://lab.example/switchyard/?x=1#y'])).toMatchObject({
      ok: true,
      config: { mode: 'remote', url: 'https://lab.example/switchyard', token: undefined },
    });
  });

  it('takes the token from SWITCHYARD_TOKEN when --token is absent; the flag wins', () => {
    expect(parseArgs(['--remote', 'https://b:8000'], { SWITCHYARD_TOKEN: 'env' })).toMatchObject({ ok: true, config: { token: 'env' } });
    expect(parseArgs(['--remote', 'https://b:8000', '--token', 'flag'], { SWITCHYARD_TOKEN: 'env' })).toMatchObject({ ok: true, config: { token: 'flag' } });
  });

  it('reads the dev URL from the flag or SWITCHYARD_DEV_URL', () => {
    expect(parseArgs(['--dev-url', 'http://localhost:5173'])).toMatchObject({ ok: true, config: { mode: 'local', devUrl: 'http://localhost:5173/' } });
    expect(parseArgs([], { SWITCHYARD_DEV_URL: 'http://127.0.0.1:5173/' })).toMatchObject({ ok: true, config: { devUrl: 'http://127.0.0.1:5173/' } });
  });

  it('reads --trace FILE and repeated --data-root DIR (the Replay page, as `switchyard console`)', () => {
    expect(parseArgs(['main.js', '--trace', '/runs/night.jsonl', '--data-root', '/runs', '--data-root=/archive'])).toEqual({
      ok: true,
      config: { mode: 'local', storePath: undefined, devUrl: undefined, trace: '/runs/night.jsonl', dataRoots: ['/runs', '/archive'] },
    });
    expect(parseArgs(['--serve-port', '0', '--data-root', '/runs'])).toMatchObject({ ok: true, config: { servePort: 0, dataRoots: ['/runs'] } });
    expect(parseArgs(['--trace', 'a.jsonl', '--trace', 'b.jsonl'])).toMatchObject({ ok: false, message: expect.stringMatching(/--trace was given twice/) });
    expect(parseArgs(['--data-root'])).toMatchObject({ ok: false, message: expect.stringMatching(/--data-root needs a value/) });
    // A remote server reads its own disk.
    expect(parseArgs(['--remote', 'https://b:8000', '--trace', 'a.jsonl'])).toMatchObject({ ok: false, message: expect.stringMatching(/--trace names a file on this machine.*--remote/) });
    expect(parseArgs(['--remote', 'https://b:8000', '--data-root', '/runs'])).toMatchObject({ ok: false, message: expect.stringMatching(/--data-root/) });
  });

  it('refuses bad combinations and values with a message naming the flag', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--store'], /--store needs a value/],
      [['--store', '--remote', 'http://x'], /--store needs a value/],
      [['--store='], /--store needs a value/],
      [['--store', 'a.db', '--store', 'b.db'], /twice/],
      [['--remote', 'ftp://bench'], /--remote needs an http\(s\) URL/],
      [['--remote', 'bench-01:8000x'], /--remote needs an http\(s\) URL/],
      [['--remote', 'https://b:8000', '--store', 'a.db'], /cannot be combined/],
      [['--token', 't'], /--token only applies with --remote/],
      [['--dev-url', 'file:///x'], /--dev-url/],
    ];
    for (const [argv, msg] of bad) {
      const r = parseArgs(argv);
      expect(r.ok, argv.join(' ')).toBe(false);
      if (!r.ok) expect(r.message).toMatch(msg);
    }
  });
});

describe('remoteWorkbenchUrl', () => {
  it('never carries the token (it goes in a header)', () => {
    expect(remoteWorkbenchUrl('https://bench-01:8000')).toBe('https://bench-01:8000/');
    expect(remoteWorkbenchUrl('https://bench-01:8000/')).toBe('https://bench-01:8000/');
  });
});
