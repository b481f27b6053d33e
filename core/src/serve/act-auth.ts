import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCodes, SwitchyardError } from '../contract/index.js';

export const ACT_TOKEN_ENV = 'SWITCHYARD_ACT_TOKEN';

/**
 * The robot token for `/act`: `--act-token-file FILE` first, then `SWITCHYARD_ACT_TOKEN`; null
 * when neither is given (then `/act` is open, as a bench on loopback expects). Never a plain
 * flag: a token on the command line is readable by every user through the process list.
 */
export function resolveActToken(opts: { file?: string | undefined; env?: string | undefined }): string | null {
  if (opts.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `Cannot read the robot token file ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Point --act-token-file at a readable file holding the token.`, '--act-token-file');
    }
    // Editors and `echo` end the file with a newline; it is not part of the token.
    const token = text.trim();
    if (token === '') throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The robot token file ${opts.file} is empty. Write the token into it (one line).`, '--act-token-file');
    if (/\s/.test(token)) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `The robot token in ${opts.file} has whitespace inside it; a token is one word on one line.`, '--act-token-file');
    return token;
  }
  if (opts.env !== undefined && opts.env.trim() !== '') return opts.env.trim();
  return null;
}

/** A warning when other users of the machine can read the token file, else null. */
export function actTokenFileWarning(file: string): string | null {
  if (process.platform === 'win32') return null;
  const mode = statSync(file).mode & 0o777;
  return (mode & 0o077) === 0 ? null : `The robot token file ${file} is readable by other users (mode ${mode.toString(8)}); chmod 600 it.`;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Checks a robot's credentials against the act token in constant time. Either header may carry
 * it: `Authorization: Bearer` (what Switchyard documents) or `X-Tether-Key` (what the reference
 * VLA server's robot client sends).
 */
export class ActAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Null when the request may act; otherwise the error to answer with 401. */
  check(headers: IncomingHttpHeaders): SwitchyardError | null {
    const candidates: string[] = [];
    const auth = headers.authorization;
    if (typeof auth === 'string' && /^bearer /i.test(auth)) candidates.push(auth.slice(7).trim());
    const key = headers['x-tether-key'];
    if (typeof key === 'string') candidates.push(key.trim());
    // Hashing first gives equal lengths, so the comparison time says nothing about the token.
    let ok = false;
    for (const c of candidates) if (timingSafeEqual(digest(c), this.expected)) ok = true;
    if (ok) return null;
    return new SwitchyardError(
      ErrorCodes.SWY_ERR_UNAUTHORIZED,
      candidates.length === 0
        ? '/act needs the robot token on this server: send "Authorization: Bearer <token>" or "X-Tether-Key: <token>".'
        : 'The robot token sent to /act is wrong. Use the token from the server\'s --act-token-file or SWITCHYARD_ACT_TOKEN.',
      candidates.length === 0 ? 'Authorization' : headers['x-tether-key'] !== undefined ? 'X-Tether-Key' : 'Authorization',
    );
  }
}
