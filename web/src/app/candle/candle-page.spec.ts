import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component, input, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { CandlePage } from './candle-page';

@Component({ selector: 'bkg-plugin-dashboard', template: 'dashboard of {{ pluginId() }}' })
class FakeDashboard {
  readonly pluginId = input.required<string>();
}

const minilm = {
  modelId: 'm-1', name: 'all-minilm-l6-v2', provider: 'CPU', loadMs: '812', loadedAtEpochMs: String(Date.now()),
  lastUsedEpochMs: String(Date.now()), expiresAtEpochMs: '0', memoryBytes: '90000000', inferences: '0', dynamicBatch: true,
  graphFile: 'model.onnx', outputs: [{ name: 'last_hidden_state', elementType: 'FLOAT', shape: ['-1', '-1', '384'] }],
  inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map(name => ({ name, elementType: 'INT64', shape: ['-1', '-1'] })),
};
const catalog = [
  { id: 'm-1', name: 'all-minilm-l6-v2', kind: 'embedding', format: 'onnx', status: 'READY', validation: null },
  { id: 'm-2', name: 'tiny-llm', kind: 'llm', format: 'gguf', status: 'READY', validation: null },
  { id: 'm-3', name: 'half-done', kind: 'generic', format: 'onnx', status: 'DOWNLOADING', validation: null },
];

/** The page against a faked gateway: load, list, run from the playground, unload. */
describe('CandlePage', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(),
        { provide: PluginsStore, useValue: { watch: () => undefined, byId: signal(new Map([['candle', { status: { state: 'RUNNING' } }]])) } }],
    });
    TestBed.overrideComponent(CandlePage, { remove: { imports: [PluginDashboard] }, add: { imports: [FakeDashboard] } });
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('loads a model, runs it from the playground (bad JSON stays here), and unloads it', async () => {
    const fixture = TestBed.createComponent(CandlePage);
    const el = fixture.nativeElement as HTMLElement;
    const settled = async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise(resolve => setTimeout(resolve));
      }
      await fixture.whenStable();
    };
    const byId = (id: string) => el.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;
    const choose = (id: string, value: string) => {
      const select = byId(id) as HTMLSelectElement;
      select.value = value;
      select.dispatchEvent(new Event('change'));
    };
    const list = (models: object[]) =>
      http.expectOne('/api/candle/models').flush({ models, memoryBudgetBytes: '0', memoryUsedBytes: models.length ? '90000000' : '0' });
    await settled();
    http.expectOne('/api/models').flush({ models: catalog });
    list([]);
    await settled();

    expect(byId('candle-state')?.textContent).toContain('RUNNING');
    expect([...(byId('candle-model') as HTMLSelectElement).options].map(o => o.value)).toEqual(['', 'all-minilm-l6-v2']);
    choose('candle-model', 'all-minilm-l6-v2');
    await settled();
    byId('candle-load')!.click();
    const load = http.expectOne('/api/candle/models/all-minilm-l6-v2/load');
    expect(load.request.body).toEqual({ keepAliveSeconds: 0 });
    load.flush({ model: minilm });
    await settled();
    list([minilm]);
    await settled();
    const row = el.querySelector('[data-testid="candle-loaded"] tr[data-model="all-minilm-l6-v2"]')!;
    expect(row.textContent).toContain('CPU');
    expect(row.textContent).toContain('86 MiB');
    expect(row.textContent).toContain('3 / 1');
    expect(row.textContent).toContain('kept');
    expect(byId('candle-message')?.textContent).toContain('loaded all-minilm-l6-v2 on CPU in 812 ms');
    expect(byId('candle-memory')?.textContent).toContain('86 MiB used, no budget');

    (el.querySelectorAll('[role="tab"]')[1] as HTMLElement).click();
    await settled();
    choose('candle-play-model', 'all-minilm-l6-v2');
    await settled();
    expect(byId('candle-signature')?.textContent).toContain('input_ids');
    expect(byId('candle-signature')?.textContent).toContain('[?, ?, 384]');
    const request = byId('candle-request') as HTMLTextAreaElement;
    expect(JSON.parse(request.value).inputs[0]).toEqual({ name: 'input_ids', shape: [1, 1], datatype: 'INT64', data: [1] });

    request.value = '{"inputs": [';
    request.dispatchEvent(new Event('input'));
    await settled();
    byId('candle-send')!.click();
    await settled();
    expect(byId('error-alert')?.textContent).toContain('not valid JSON'); // and no call: verify() checks

    const body = { inputs: [{ name: 'input_ids', shape: [1, 4], datatype: 'INT64', data: [101, 7592, 2088, 102] }] };
    request.value = JSON.stringify(body);
    request.dispatchEvent(new Event('input'));
    await settled();
    byId('candle-send')!.click();
    const infer = http.expectOne('/v2/models/all-minilm-l6-v2/infer');
    expect(infer.request.body).toEqual(body);
    infer.flush({ model_name: 'all-minilm-l6-v2', model_version: '1', outputs: [{ name: 'last_hidden_state', datatype: 'FP32',
      shape: [1, 4, 384], data: new Array(1536).fill(0.5) }], parameters: { duration_us: 4200, queue_us: 0, batch_requests: 1, provider: 'CPU' } });
    await settled();
    list([{ ...minilm, inferences: '1' }]);
    await settled();
    expect(byId('error-alert')).toBeNull();
    const output = el.querySelector('[data-testid="candle-outputs"] tr[data-output="last_hidden_state"]')!;
    expect(output.textContent).toContain('FP32');
    expect(output.textContent).toContain('[1, 4, 384]');
    expect(output.textContent).toContain('(1536 values)');
    expect(byId('candle-timing')?.textContent).toContain('4.2 ms run');

    (el.querySelectorAll('[role="tab"]')[0] as HTMLElement).click();
    await settled();
    byId('candle-unload')!.click();
    http.expectOne('/api/candle/models/all-minilm-l6-v2/unload').flush({ unloaded: true });
    await settled();
    list([]);
    await settled();
    expect(el.querySelector('[data-testid="candle-loaded"] tr[data-model]')).toBeNull();
    expect(byId('candle-message')?.textContent).toContain('unloaded all-minilm-l6-v2');
  });
});
