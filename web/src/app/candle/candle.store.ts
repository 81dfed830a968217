import { HttpClient } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Problem, attempt } from '../core/problem';
import { InferReply, LoadedModel, LoadedModels, Model, OipTensor, QuantizeReply, TensorInfo } from '../core/types';
import { formatBytes } from '../shared/bytes.pipe';
import { formatUptime } from '../shared/uptime.pipe';

export { formatBytes };

const BASE = '/api/candle/models';
const path = (model: string) => `${BASE}/${encodeURIComponent(model)}`;

/** Element types whose OIP datatype has another name; the rest are the same, upper-cased. */
const DATATYPES: Record<string, string> = { FLOAT: 'FP32', FLOAT16: 'FP16', DOUBLE: 'FP64', STRING: 'BYTES', BFLOAT16: 'BF16' };

/** The OIP datatype of an element type: candle's "FLOAT" or the catalog's "float" → "FP32". */
export function datatypeOf(elementType: string): string {
  const type = elementType.toUpperCase();
  return DATATYPES[type] ?? type;
}

/** "[?, 384]": a dynamic dimension (-1) as "?". */
export function shapeText(shape: readonly (string | number)[]): string {
  return `[${shape.map(d => Number(d) < 0 ? '?' : String(d)).join(', ')}]`;
}

/** A shape to send: each dynamic dimension becomes 1. */
export function concreteShape(shape: readonly (string | number)[]): number[] {
  return shape.map(d => { const n = Number(d); return Number.isInteger(n) && n >= 0 ? n : 1; });
}

/** Zeros of the input's kind, but ones for token ids and masks (a mask of zeros hides every token: NaN outputs). */
function fillOf(name: string, datatype: string): number | boolean | string {
  const one = /mask|input_ids/i.test(name);
  return datatype === 'BOOL' ? one : datatype === 'BYTES' ? '' : one ? 1 : 0;
}

/** An OIP request for a model's inputs as JSON text, one input a line, ready to edit. */
export function requestTemplate(inputs: readonly TensorInfo[]): string {
  if (!inputs.length) {
    return '{\n  "inputs": []\n}';
  }
  const lines = inputs.map(input => {
    const datatype = datatypeOf(input.elementType);
    const shape = concreteShape(input.shape);
    const data = new Array(shape.reduce((a, b) => a * b, 1)).fill(fillOf(input.name, datatype));
    return '    ' + JSON.stringify({ name: input.name, shape, datatype, data });
  });
  return `{\n  "inputs": [\n${lines.join(',\n')}\n  ]\n}`;
}

/** The request typed in the playground, or the problem with it (shown like the gateway's, without calling it). */
export function parseRequest(text: string): { body: object } | { problem: Problem } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { problem: { title: 'The request is not valid JSON', status: 0, detail: e instanceof Error ? e.message : String(e) } };
  }
  if (!body || typeof body !== 'object' || !Array.isArray((body as { inputs?: unknown }).inputs)) {
    return { problem: { title: 'The request has no "inputs" array', status: 0,
      detail: '{"inputs": [{"name": …, "shape": […], "datatype": "FP32", "data": […]}]}' } };
  }
  return { body };
}

/** 0.12345678 → "0.1235", integers as they are, strings quoted. */
function valueText(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return String(Number(value.toPrecision(4)));
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** An output's first values and how many there are: "0.1, -0.2, … (1536 values)". */
export function summarize(output: OipTensor, first = 6): string {
  const data = output.data ?? [];
  if (!data.length) {
    return 'no values';
  }
  const shown = data.slice(0, first).map(valueText).join(', ');
  return data.length > first ? `${shown}, … (${data.length} values)` : `${shown} (${data.length} value${data.length > 1 ? 's' : ''})`;
}

/** The run's figures from the reply's parameters, and the round trip measured here. */
export function timingText(reply: InferReply, roundTripMs: number): string {
  const p = reply.parameters ?? {};
  const parts = [`${((p.duration_us ?? 0) / 1000).toFixed(1)} ms run`, `${roundTripMs.toFixed(1)} ms round trip`];
  if (p.queue_us) {
    parts.push(`queued ${(p.queue_us / 1000).toFixed(1)} ms`);
  }
  const n = p.batch_requests ?? 1;
  parts.push(n > 1 ? `batched with ${n - 1} other request${n > 2 ? 's' : ''}` : 'not batched');
  if (p.provider) {
    parts.push(p.provider);
  }
  return parts.join(' · ');
}

/** When an idle model goes: "in 4m 12s", "kept" (until unloaded), or "due" once the time has passed. */
export function expiryText(expiresAtEpochMs: string | number, now: number): string {
  const at = Number(expiresAtEpochMs);
  if (!at) {
    return 'kept';
  }
  return at <= now ? 'due' : `in ${formatUptime((at - now) / 1000)}`;
}

/** "12s ago"; "–" for never. */
export function agoText(epochMs: string | number, now: number): string {
  const at = Number(epochMs);
  return at ? `${formatUptime(Math.max(0, now - at) / 1000)} ago` : '–';
}

/** "86 MiB used of a 2.0 GiB budget (4 %)", or "86 MiB used, no budget". */
export function memoryText(usedBytes: string | number, budgetBytes: string | number): string {
  const used = Number(usedBytes);
  const budget = Number(budgetBytes);
  return budget > 0 ? `${formatBytes(used)} used of a ${formatBytes(budget)} budget (${Math.round(used / budget * 100)} %)`
    : `${formatBytes(used)} used, no budget`;
}

/** A quantization's report, one [what, figures] pair a line. */
export function reportLines(r: QuantizeReply): [string, string][] {
  const before = Number(r.sizeBeforeBytes);
  const after = Number(r.sizeAfterBytes);
  const ratio = before > 0 ? ` (${Math.round(after / before * 100)} % of the original)` : '';
  const checked: [string, string][] = r.samples > 0 ? [
    ['cosine fp32 / int8', `min ${Number(r.minCosine).toFixed(4)}, mean ${Number(r.meanCosine).toFixed(4)}`],
    ['max abs error', valueText(Number(r.maxAbsError))],
    ['samples', `${r.samples} generated inputs, checked in ${r.checkMs} ms`],
  ] : [['accuracy', 'not checked']];
  return [
    ['new model', r.newModelName || r.newModelId],
    ['size', `${formatBytes(before)} → ${formatBytes(after)}${ratio}`],
    ['weights quantized', String(r.quantizedWeights)],
    ['ops', r.quantizedOps?.length ? r.quantizedOps.join(', ') : 'none'],
    ...checked,
    ['written in', `${r.durationMs} ms`],
  ];
}

/** candle's models in memory, the catalog's loadable ones, and the playground's and quantizer's last answers. */
@Injectable({ providedIn: 'root' })
export class CandleStore {
  private readonly http = inject(HttpClient);

  readonly loaded = signal<LoadedModel[]>([]);
  readonly memory = signal<{ used: string; budget: string } | null>(null);
  readonly catalog = signal<Model[]>([]);
  /** What candle can load: READY ONNX models. */
  readonly loadable = computed(() => this.catalog().filter(m => m.status === 'READY' && m.format?.toLowerCase() === 'onnx'));
  readonly reply = signal<{ reply: InferReply; roundTripMs: number } | null>(null);
  readonly report = signal<QuantizeReply | null>(null);
  /** The last action's failure; the periodic list has its own, so a refresh neither hides nor replaces it. */
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly message = signal<string | null>(null);
  /** What is being done ("loading …"), or null. */
  readonly busy = signal<string | null>(null);
  private refreshes = 0;

  async refresh(): Promise<void> {
    const mine = ++this.refreshes; // an older answer arriving late must not bring back an unloaded model
    await attempt(this.listProblem, async () => {
      const reply = await firstValueFrom(this.http.get<LoadedModels>(BASE));
      if (mine === this.refreshes) {
        this.loaded.set(reply.models ?? []);
        this.memory.set({ used: reply.memoryUsedBytes, budget: reply.memoryBudgetBytes });
      }
    });
  }

  /** Forgets what was loaded (candle stopped: its memory is gone). */
  clearLoaded(): void {
    this.refreshes++;
    this.loaded.set([]);
    this.memory.set(null);
    this.listProblem.set(null);
  }

  async loadCatalog(): Promise<void> {
    await attempt(this.problem, () => this.fetchCatalog());
  }

  /** The signature of a model: from candle if loaded, else from the catalog's validation; null if neither knows it. */
  signature(model: string): { inputs: TensorInfo[]; outputs: TensorInfo[] } | null {
    const loaded = this.loaded().find(m => m.name === model || m.modelId === model);
    if (loaded) {
      return { inputs: loaded.inputs ?? [], outputs: loaded.outputs ?? [] };
    }
    const v = this.catalog().find(m => m.name === model || m.id === model)?.validation;
    return v?.inputs?.length ? { inputs: v.inputs, outputs: v.outputs ?? [] } : null;
  }

  async load(model: string, keepAliveSeconds: number): Promise<void> {
    await this.run(`loading ${model}…`, async () => {
      const { model: m } = await firstValueFrom(this.http.post<{ model: LoadedModel }>(`${path(model)}/load`, { keepAliveSeconds }));
      this.message.set(`loaded ${m.name} on ${m.provider} in ${m.loadMs} ms`);
      await this.refresh();
    });
  }

  async unload(model: string): Promise<void> {
    await this.run(`unloading ${model}…`, async () => {
      const { unloaded } = await firstValueFrom(this.http.post<{ unloaded: boolean }>(`${path(model)}/unload`, null));
      this.message.set(unloaded ? `unloaded ${model}` : `${model} was not loaded`);
      await this.refresh();
    });
  }

  /** Sends the request text as it is; bad JSON is reported here, without a call. */
  async infer(model: string, text: string): Promise<void> {
    const parsed = parseRequest(text);
    this.reply.set(null);
    if ('problem' in parsed) {
      this.problem.set(parsed.problem);
      return;
    }
    await this.run(`running ${model}…`, async () => {
      const started = performance.now();
      const reply = await firstValueFrom(this.http.post<InferReply>(`/v2/models/${encodeURIComponent(model)}/infer`, parsed.body));
      this.reply.set({ reply, roundTripMs: performance.now() - started });
      await this.refresh(); // it may have been loaded by this call; its count of inferences moved
    });
  }

  async quantize(model: string, name: string): Promise<void> {
    this.report.set(null);
    await this.run(`quantizing ${model} (up to a minute)…`, async () => {
      this.report.set(await firstValueFrom(this.http.post<QuantizeReply>(`${path(model)}/quantize`,
        name.trim() ? { name: name.trim() } : {})));
      await this.fetchCatalog(); // the new model is in the catalog now
    });
  }

  private async fetchCatalog(): Promise<void> {
    const { models } = await firstValueFrom(this.http.get<{ models?: Model[] }>('/api/models'));
    this.catalog.set(models ?? []);
  }

  private async run(label: string, action: () => Promise<void>): Promise<void> {
    this.busy.set(label);
    this.message.set(null);
    await attempt(this.problem, action);
    this.busy.set(null);
  }
}
