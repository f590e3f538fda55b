import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chartTgz, chartYamlOf, tarOf, tgzOf } from '../../../test/helpers/helm-charts.js';
import { readChartArchive } from './chart-archive.js';

const chartYaml = chartYamlOf({ name: 'demo', version: '1.2.3', appVersion: '4.5' });

async function refused(tgz: Buffer, reason: RegExp) {
  await expect(readChartArchive(tgz)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(reason) });
}

describe('readChartArchive', () => {
  it('reads the Chart.yaml of a chart laid out as helm package does', async () => {
    const got = await readChartArchive(chartTgz({ name: 'demo', version: '1.2.3', appVersion: '4.5' }));
    expect(got.folder).toBe('demo');
    expect(got.metadata).toMatchObject({ apiVersion: 'v2', name: 'demo', version: '1.2.3', appVersion: '4.5', type: 'application' });
  });

  it('accepts folder entries, ./ prefixes and a folder named otherwise than the chart', async () => {
    const tgz = tgzOf([
      { name: './pkg/', type: '5' },
      { name: './pkg/Chart.yaml', data: chartYaml },
      { name: './pkg/templates/', type: '5' },
      { name: './pkg/templates/a.yaml', data: 'x: 1\n' },
    ]);
    expect((await readChartArchive(tgz)).folder).toBe('pkg');
  });

  it('refuses what is not a gzip tar', async () => {
    await refused(Buffer.from('PK\u0003\u0004 not a tgz'), /not gzip-compressed/);
    await refused(gzipSync(Buffer.from('hello world, no tar here'.repeat(40))), /checksum|truncated/);
    await refused(tgzOf([{ name: 'demo/Chart.yaml', data: chartYaml }]).subarray(0, 40), /cannot be decompressed|truncated/);
  });

  it('refuses a tar cut inside an entry', async () => {
    const tar = tarOf([{ name: 'demo/Chart.yaml', data: chartYaml }, { name: 'demo/big.txt', data: 'x'.repeat(5000) }]);
    await refused(gzipSync(tar.subarray(0, 1536)), /truncated/);
  });

  it('refuses links, devices, absolute paths, parent references and backslashes', async () => {
    const base = { name: 'demo/Chart.yaml', data: chartYaml };
    await refused(tgzOf([base, { name: 'demo/evil', type: '2', linkname: '/etc/passwd' }]), /is a link/);
    await refused(tgzOf([base, { name: 'demo/hard', type: '1', linkname: 'demo/Chart.yaml' }]), /is a link/);
    await refused(tgzOf([base, { name: 'demo/fifo', type: '6' }]), /not a regular file/);
    await refused(tgzOf([{ name: '/demo/Chart.yaml', data: chartYaml }]), /absolute path/);
    await refused(tgzOf([base, { name: 'demo/../../etc/cron.d/x', data: 'boom' }]), /parent folder/);
    await refused(tgzOf([base, { name: 'demo\\..\\x', data: 'boom' }]), /backslash/);
    await refused(tgzOf([base, { name: 'C:/windows/x', data: 'boom' }]), /absolute path/);
  });

  it('refuses a path smuggled in a pax record', async () => {
    const record = ' path=../../escape.txt\n';
    const len = String(record.length + 3).length + record.length;
    await refused(tgzOf([base(), { name: 'PaxHeader', type: 'x', data: `${len}${record}` }, { name: 'demo/innocent.txt', data: 'x' }]), /parent folder/);
  });

  it('wants exactly one top-level folder holding Chart.yaml', async () => {
    await refused(tgzOf([base(), { name: 'other/values.yaml', data: 'a: 1\n' }]), /more than one top-level folder/);
    await refused(tgzOf([{ name: 'Chart.yaml', data: chartYaml }]), /outside the chart's folder/);
    await refused(tgzOf([{ name: 'demo/values.yaml', data: 'a: 1\n' }]), /no Chart.yaml/);
    await refused(tgzOf([{ name: 'demo/sub/Chart.yaml', data: chartYaml }]), /no Chart.yaml/);
    await refused(tgzOf([]), /empty/);
    await refused(tgzOf([base(), base()]), /appears twice/);
  });

  it('checks the Chart.yaml it finds', async () => {
    await refused(tgzOf([{ name: 'demo/Chart.yaml', data: 'name: demo\nversion: 1.0\n' }]), /SemVer/);
    await refused(tgzOf([{ name: 'demo/Chart.yaml', data: 'version: 1.0.0\n' }]), /name is required/);
    await refused(tgzOf([{ name: 'demo/Chart.yaml', data: ': : :\n\t- [' }]), /not valid YAML/);
    await refused(tgzOf([{ name: 'demo/Chart.yaml', data: 'name: ../x\nversion: 1.0.0\n' }]), /invalid/);
  });

  it('stops a decompression bomb within the limits', async () => {
    // 12 files of 1 MiB of zeros: a few KiB compressed, far past the ratio once past the allowance.
    const zeros = Buffer.alloc(1024 * 1024);
    const entries = [base(), ...Array.from({ length: 12 }, (_, i) => ({ name: `demo/zeros-${i}.bin`, data: zeros }))];
    const tgz = tgzOf(entries);
    expect(tgz.length).toBeLessThan(64 * 1024);
    await refused(tgz, /times its compressed size/);
    await expect(readChartArchive(tgz, { maxBytes: 2 * 1024 * 1024, maxRatio: 1e9, allowance: 0 })).rejects.toMatchObject({ message: expect.stringMatching(/more than 2097152 bytes/) });
  });

  it('refuses a file larger than Helm loads, and too many entries', async () => {
    await refused(tgzOf([base(), { name: 'demo/huge.bin', data: Buffer.alloc(5 * 1024 * 1024 + 1, 1) }]), /larger than 5242880 bytes/);
    const many = Array.from({ length: 10_001 }, (_, i) => ({ name: `demo/d${i}/`, type: '5' }));
    // Folder headers compress very well: the ratio bound is lifted to reach the entry count.
    await expect(readChartArchive(tgzOf([base(), ...many]), { maxBytes: 100 * 1024 * 1024, maxRatio: 1e9, allowance: 0 })).rejects.toMatchObject({ message: expect.stringMatching(/more than 10000 entries/) });
  });
});

function base() {
  return { name: 'demo/Chart.yaml', data: chartYaml };
}
