import { ArcaError } from '../../../core/errors.js';
import type { DeleteBuildsRequest, RetentionRequest } from '../../../services/builds/build-service.js';
import type { PromotionRequest } from '../../../services/builds/build-promotion.js';
import { startedMs } from '../../../services/builds/build-info.js';

/** The JSON bodies of the build routes (promotion, delete, retention), checked field by field. */

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

export function jsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw bad(`The ${what} body is not JSON (${(err as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(`The ${what} body must be a JSON object`);
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`'${key}' must be a string`);
  return v;
}

function bool(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw bad(`'${key}' must be true or false`);
}

function strings(body: Record<string, unknown>, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' && typeof s !== 'number')) throw bad(`'${key}' must be an array of strings`);
  if (v.length > 10_000) throw bad(`'${key}' lists more than 10000 values`);
  return v.map(String);
}

/** `properties`: `{"k": ["v1","v2"]}` (a single string value is taken as one value). */
function properties(body: Record<string, unknown>): Record<string, string[]> {
  const v = body.properties;
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad("'properties' must be an object of arrays of strings");
  const out: Record<string, string[]> = {};
  for (const [k, values] of Object.entries(v)) {
    const list = Array.isArray(values) ? values : [values];
    if (k === '' || list.some((x) => typeof x !== 'string')) throw bad(`'properties.${k}' must be an array of strings`);
    out[k] = list as string[];
  }
  return out;
}

export function promotionRequest(body: Record<string, unknown>): PromotionRequest {
  return {
    status: str(body, 'status'),
    comment: str(body, 'comment'),
    ciUser: str(body, 'ciUser'),
    timestamp: str(body, 'timestamp'),
    dryRun: bool(body, 'dryRun', false),
    sourceRepo: str(body, 'sourceRepo'),
    targetRepo: str(body, 'targetRepo'),
    copy: bool(body, 'copy', false),
    artifacts: bool(body, 'artifacts', true),
    dependencies: bool(body, 'dependencies', false),
    scopes: strings(body, 'scopes'),
    properties: properties(body),
    failFast: bool(body, 'failFast', true),
  };
}

/** `POST /api/build/delete`: `{"buildName","buildNumbers":[…],"deleteArtifacts","deleteAll","project"}`. */
export function deleteRequest(body: Record<string, unknown>): DeleteBuildsRequest {
  const name = str(body, 'buildName');
  if (!name) throw bad("'buildName' is required");
  const numbers = strings(body, 'buildNumbers') ?? [];
  const deleteAll = bool(body, 'deleteAll', false);
  if (numbers.length === 0 && !deleteAll) throw bad("Name the runs to delete in 'buildNumbers', or set 'deleteAll'");
  return { name, numbers, deleteAll, deleteArtifacts: bool(body, 'deleteArtifacts', false) };
}

/**
 * `POST /api/build/retention/{name}`, as jfrog-client-go's discardBuilds.go sends it:
 * `{"count":"N","minimumBuildDate":"<time>","buildNumbersNotToBeDiscarded":[…],"deleteBuildArtifacts":bool}`
 * (`count` is a string there; a number is taken too; `--max-days` arrives as `minimumBuildDate`),
 * and Arca's `keepBuildsWithStatus` (runs whose last promotion status is listed are kept).
 */
export function retentionRequest(body: Record<string, unknown>): RetentionRequest {
  let count: number | undefined;
  const c = body.count;
  if (c !== undefined && c !== null && c !== '') {
    const s = String(c).trim();
    if ((typeof c !== 'string' && typeof c !== 'number') || !/^\d{1,9}$/.test(s)) throw bad(`'count' must be a non-negative integer, got ${JSON.stringify(c)}`);
    count = Number(s);
  }
  let minimumBuildDate: number | undefined;
  const d = body.minimumBuildDate;
  if (d !== undefined && d !== null && d !== '') {
    minimumBuildDate = typeof d === 'number' ? d : typeof d === 'string' ? startedMs(d) : NaN;
    if (Number.isNaN(minimumBuildDate)) throw bad(`'minimumBuildDate' must be a time such as 2024-05-01T10:00:00.000+0000, got ${JSON.stringify(d)}`);
  }
  if (count === undefined && minimumBuildDate === undefined) throw bad("Give 'count' or 'minimumBuildDate' (or both): retention with neither would keep every run");
  return {
    count,
    minimumBuildDate,
    keep: strings(body, 'buildNumbersNotToBeDiscarded') ?? [],
    keepStatuses: strings(body, 'keepBuildsWithStatus') ?? [],
    deleteArtifacts: bool(body, 'deleteBuildArtifacts', false),
  };
}
