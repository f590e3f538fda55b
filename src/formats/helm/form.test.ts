import { describe, expect, it } from 'vitest';
import { formOf } from '../../../test/helpers/helm-charts.js';
import { formBoundary, parseForm } from './form.js';

describe('the ChartMuseum upload form', () => {
  it('finds the chart and prov fields, binary bodies intact', () => {
    const chart = Buffer.from([0x1f, 0x8b, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);
    const { body, contentType } = formOf({ chart: { filename: 'a-1.0.0.tgz', data: chart }, prov: { filename: 'a-1.0.0.tgz.prov', data: Buffer.from('sig') } });
    const form = parseForm(body, formBoundary(contentType)!);
    expect(form.get('chart')).toEqual(chart);
    expect(form.get('prov')!.toString()).toBe('sig');
  });

  it('tells a form from a raw body, and refuses a malformed form', () => {
    expect(formBoundary('application/octet-stream')).toBeUndefined();
    expect(formBoundary(undefined)).toBeUndefined();
    expect(() => formBoundary('multipart/form-data')).toThrow(/boundary/);
    expect(() => parseForm(Buffer.from('--x\r\nContent-Disposition: form-data; name="chart"\r\n\r\nabc'), 'x')).toThrow(/ends inside a part/);
    expect(() => parseForm(Buffer.from('nothing'), 'x')).toThrow(/never appears/);
    expect(() => parseForm(Buffer.from('--x\r\nContent-Type: a\r\n\r\nabc\r\n--x--'), 'x')).toThrow(/no Content-Disposition/);
  });
});
