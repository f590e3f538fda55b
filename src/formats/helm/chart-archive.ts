/**
 * Reads and checks a chart archive (`helm package` output: a gzip'd tar holding one folder
 * with the chart's files) before anything is stored. The whole archive is unpacked on zlib's
 * thread pool within bounds (a decompression bomb costs at most the limits below), every
 * entry is checked as Helm's loader does and stricter (one top-level folder, no absolute
 * paths, no `..`, no links or devices, a bounded number of entries and bytes per file), and
 * `{folder}/Chart.yaml` is parsed.
 */
import { BoundedInflater, type InflateLimits } from '../../core/bounded-inflate.js';
import { ArcaError } from '../../core/errors.js';
import { cString, TAR_BLOCK, TarStream, type TarEntryHeader } from '../../core/tar.js';
import { MAX_CHART_YAML_BYTES, parseChartYaml, type ChartMetadata } from './chart-metadata.js';


/** Largest chart archive accepted (ChartMuseum's default upload limit is 20 MiB). */
export const MAX_CHART_ARCHIVE_BYTES = 32 * 1024 * 1024;

/** How far an archive may unpack: Helm's own cap (100 MiB), and a ratio to its compressed size. */
export const CHART_INFLATE_LIMITS: InflateLimits = { maxBytes: 100 * 1024 * 1024, maxRatio: 200, allowance: 4 * 1024 * 1024 };

/** Largest file in a chart (Helm's loader refuses larger ones). */
export const MAX_CHART_FILE_BYTES = 5 * 1024 * 1024;

/** Most entries in a chart archive. */
export const MAX_CHART_ENTRIES = 10_000;

/** Largest pax or GNU long-name record read. */
const MAX_RECORD_BYTES = 64 * 1024;

export interface ChartArchive {
  metadata: ChartMetadata;
  /** The archive's top-level folder. */
  folder: string;
}

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Invalid chart archive: ${message}`);
}

/** The segments of an entry's path, refused when it could land outside the chart's folder. */
function segmentsOf(path: string): string[] {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw bad(`'${path}' is an absolute path`);
  if (path.includes('\\')) throw bad(`'${path}' holds a backslash`);
  if (path.includes('\0')) throw bad('an entry name holds a NUL character');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw bad(`'${path}' refers to a parent folder`);
  return parts;
}

/** A tar stream checked entry by entry as it is unpacked. */
class ChartTarScanner extends TarStream<'chart'> {
  folder: string | undefined;
  chartYaml: Buffer | undefined;
  entries = 0;

  constructor() {
    super({
      maxRecordBytes: MAX_RECORD_BYTES,
      tooLarge: () => bad(`a tar header record is larger than ${MAX_RECORD_BYTES} bytes`),
      badSize: () => bad('a tar header has a bad size field'),
    });
  }

  protected override checkHeader(h: Buffer): void {
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    const declared = parseInt(cString(h, 148, 8).trim() || 'x', 8);
    if (declared !== sum) throw bad('a tar header checksum is wrong (not a tar archive, or a corrupt one)');
  }

  protected entry({ path, type, size }: TarEntryHeader): 'chart' | undefined {
    if (type === '1' || type === '2' || type === 'K') throw bad(`'${path}' is a link; charts hold regular files only`);
    if (type !== '0' && type !== '7' && type !== '5') throw bad(`'${path}' is not a regular file or folder (tar type '${type}')`);
    if (++this.entries > MAX_CHART_ENTRIES) throw bad(`more than ${MAX_CHART_ENTRIES} entries`);
    const parts = segmentsOf(path);
    if (parts.length === 0) {
      if (type !== '5') throw bad(`'${path}' is a file outside the chart's folder`);
    } else {
      if (this.folder === undefined) this.folder = parts[0];
      else if (parts[0] !== this.folder) throw bad(`more than one top-level folder ('${this.folder}' and '${parts[0]}')`);
      if (parts.length === 1 && type !== '5') throw bad(`'${path}' is a file outside the chart's folder`);
    }
    if (type !== '5' && size > MAX_CHART_FILE_BYTES) throw bad(`'${path}' is larger than ${MAX_CHART_FILE_BYTES} bytes`);
    if (type === '5' || parts.length !== 2 || parts[1] !== 'Chart.yaml') return undefined;
    if (this.chartYaml) throw bad(`'${path}' appears twice`);
    if (size > MAX_CHART_YAML_BYTES) throw bad(`'${path}' is larger than ${MAX_CHART_YAML_BYTES} bytes`);
    return 'chart';
  }

  protected kept(_keep: 'chart', _path: string, data: Buffer): void {
    this.chartYaml = data;
  }
}

/** Reads and checks a whole chart archive; BAD_REQUEST with the reason when it is not a usable chart. */
export async function readChartArchive(tgz: Buffer, limits: InflateLimits = CHART_INFLATE_LIMITS): Promise<ChartArchive> {
  if (tgz.length > MAX_CHART_ARCHIVE_BYTES) throw bad(`larger than ${MAX_CHART_ARCHIVE_BYTES} bytes`);
  if (tgz.length < 2 || tgz[0] !== 0x1f || tgz[1] !== 0x8b) throw bad('not gzip-compressed (a chart is a .tgz made by helm package)');
  const tar = new ChartTarScanner();
  const inflater = new BoundedInflater({ format: 'gzip', limits, what: 'The chart archive', onData: (out) => tar.push(out) });
  try {
    for (let off = 0; off < tgz.length; off += 256 * 1024) await inflater.write(tgz.subarray(off, off + 256 * 1024));
    await inflater.end();
  } catch (err) {
    inflater.destroy();
    throw err;
  }
  if (tar.midEntry) throw bad('truncated');
  if (!tar.folder) throw bad('empty (no chart folder)');
  if (!tar.chartYaml) throw bad(`no Chart.yaml in its folder '${tar.folder}'`);
  return { metadata: parseChartYaml(tar.chartYaml), folder: tar.folder };
}
