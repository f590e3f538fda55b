/**
 * Reads the control file of a binary package (`.deb`) before anything is stored. A `.deb` is
 * an ar archive (`!<arch>\n`) of `debian-binary` ("2.0\n"), `control.tar[.gz|.xz|.zst]` and
 * `data.tar[.*]`, in that order (deb(5)). Every member header is checked and the members must
 * fill the archive exactly, so a truncated upload is refused; only the control tarball is
 * unpacked (within bounds: gzip on zlib's thread pool, xz and zstd through the system `xz` and
 * `zstd` decoders in a bounded child process, as Node 20 has neither), and its `./control`
 * is returned as text.
 */
import { spawn } from 'node:child_process';
import { inflateBounded } from '../../core/bounded-inflate.js';
import { ArcaError } from '../../core/errors.js';
import { headerPath, paxPath, TAR_BLOCK, tarSize } from '../../core/tar.js';

/** Largest `.deb` accepted through a deploy (it is read into memory to be checked). */
export const MAX_DEB_BYTES = 256 * 1024 * 1024;

/** Largest unpacked control tarball (maintainer scripts and md5sums included). */
export const MAX_CONTROL_TAR_BYTES = 16 * 1024 * 1024;

/** Largest control file. */
export const MAX_CONTROL_BYTES = 1024 * 1024;

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Invalid Debian package: ${message}`);
}

interface ArMember {
  name: string;
  data: Buffer;
}

/** The members of an ar archive; refused unless headers are sound and the data is all there. */
export function arMembers(deb: Buffer): ArMember[] {
  if (deb.length < AR_MAGIC.length || deb.subarray(0, AR_MAGIC.length).toString('latin1') !== AR_MAGIC) throw bad('not an ar archive (no !<arch> magic)');
  const members: ArMember[] = [];
  let off = AR_MAGIC.length;
  while (off < deb.length) {
    // A member starts on an even offset; one padding byte may end the archive.
    if (deb.length - off < AR_HEADER) throw bad('the archive is truncated (a member header is cut short)');
    const h = deb.subarray(off, off + AR_HEADER);
    if (h[58] !== 0x60 || h[59] !== 0x0a) throw bad(`a member header at offset ${off} is malformed`);
    const name = h.subarray(0, 16).toString('latin1').trim().replace(/\/$/, '');
    const sizeText = h.subarray(48, 58).toString('latin1').trim();
    if (!/^\d+$/.test(sizeText)) throw bad(`member '${name}' has a malformed size`);
    const size = Number(sizeText);
    const start = off + AR_HEADER;
    if (start + size > deb.length) throw bad(`the archive is truncated (member '${name}' needs ${size} bytes, ${deb.length - start} are there)`);
    members.push({ name, data: deb.subarray(start, start + size) });
    off = start + size + (size % 2);
    if (members.length > 16) throw bad('too many ar members');
  }
  if (off > deb.length + 1) throw bad('the archive is truncated');
  return members;
}

/** Runs a system decoder over `input`, keeping at most `limit` bytes of output. */
function decodeWith(program: 'xz' | 'zstd', input: Buffer, limit: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const parts: Buffer[] = [];
    let total = 0;
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure ??= bad(`${what}: decompression took too long`);
      child.kill('SIGKILL');
    }, 20_000);
    child.stdout.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        failure ??= bad(`${what} unpacks to more than ${limit} bytes`);
        child.kill('SIGKILL');
        return;
      }
      parts.push(c);
    });
    child.stderr.resume();
    child.on('error', (err) => {
      failure ??= new ArcaError('INTERNAL', `Cannot run '${program}' to read ${what}: ${err.message}`);
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) return reject(bad(`${what} is not valid ${program} data`));
      resolve(Buffer.concat(parts));
    });
    child.stdin.end(input);
  });
}

/** The unpacked control tarball, by its member name's compression. */
async function unpackControl(member: ArMember): Promise<Buffer> {
  const what = `The control tarball '${member.name}'`;
  if (member.name === 'control.tar') return member.data;
  if (member.name === 'control.tar.gz') {
    return inflateBounded(member.data, { format: 'gzip', what, limits: { maxBytes: MAX_CONTROL_TAR_BYTES, maxRatio: 1000, allowance: 1024 * 1024 } });
  }
  if (member.name === 'control.tar.xz') return decodeWith('xz', member.data, MAX_CONTROL_TAR_BYTES, what);
  if (member.name === 'control.tar.zst') return decodeWith('zstd', member.data, MAX_CONTROL_TAR_BYTES, what);
  throw bad(`unsupported control member '${member.name}'`);
}

/** The `./control` file of an unpacked control tarball. */
export function controlFromTar(tar: Buffer): string {
  let off = 0;
  let longName: string | undefined;
  while (off + TAR_BLOCK <= tar.length) {
    const h = tar.subarray(off, off + TAR_BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = tarSize(h);
    if (size === undefined) throw bad('the control tarball has a bad header');
    const type = String.fromCharCode(h[156] || 0x30);
    const dataStart = off + TAR_BLOCK;
    if (dataStart + size > tar.length) throw bad('the control tarball is truncated');
    const data = tar.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (type === 'x') {
      longName = paxPath(data);
      continue;
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const name = (longName ?? headerPath(h)).replace(/^\.\//, '');
    longName = undefined;
    if (name === 'control' && (type === '0' || type === '\0')) {
      if (size > MAX_CONTROL_BYTES) throw bad(`the control file is larger than ${MAX_CONTROL_BYTES} bytes`);
      return data.toString('utf8');
    }
  }
  throw bad('the control tarball holds no ./control file');
}

/** The control file text of a `.deb`, after the archive's structure was checked. */
export async function readDebControl(deb: Buffer): Promise<string> {
  const members = arMembers(deb);
  if (members.length < 3) throw bad('a .deb has debian-binary, control.tar and data.tar members');
  const [version, control, data] = members;
  if (version.name !== 'debian-binary' || !/^2\.\d+\n/.test(version.data.toString('latin1'))) throw bad("the first member is not 'debian-binary' with format 2.x");
  if (!control.name.startsWith('control.tar')) throw bad(`the second member is '${control.name}', not the control tarball`);
  if (!data.name.startsWith('data.tar')) throw bad(`the third member is '${data.name}', not the data tarball`);
  return controlFromTar(await unpackControl(control));
}
