import { TelemetryStore } from './telemetry.store';

describe('TelemetryStore', () => {
  it('keeps points per metric', () => {
    const store = new TelemetryStore();
    store.add({ metric: 'cpu', t: 1, value: 10 });
    store.add({ metric: 'mem', t: 1, value: 500 });
    store.add({ metric: 'cpu', t: 2, value: 20 });
    expect(store.points('cpu')).toEqual([{ t: 1, v: 10 }, { t: 2, v: 20 }]);
    expect(store.points('mem')).toEqual([{ t: 1, v: 500 }]);
    expect(store.points('none')).toEqual([]);
  });

  it('caps each metric at capacity', () => {
    const store = new TelemetryStore(2);
    for (let t = 1; t <= 4; t++) store.add({ metric: 'cpu', t, value: t * 10 });
    expect(store.points('cpu')).toEqual([{ t: 3, v: 30 }, { t: 4, v: 40 }]);
  });

  it('ignores replayed or out-of-order samples', () => {
    const store = new TelemetryStore();
    store.add({ metric: 'cpu', t: 5, value: 1 });
    store.add({ metric: 'cpu', t: 5, value: 2 });
    store.add({ metric: 'cpu', t: 3, value: 3 });
    expect(store.points('cpu')).toEqual([{ t: 5, v: 1 }]);
  });

  it('latest(), sorted metrics() and clear()', () => {
    const store = new TelemetryStore();
    expect(store.latest('cpu')).toBeNull();
    store.add({ metric: 'zeta', t: 1, value: 1 });
    store.add({ metric: 'alpha', t: 1, value: 7 });
    store.add({ metric: 'alpha', t: 2, value: 8 });
    expect(store.latest('alpha')).toBe(8);
    expect(store.metrics()).toEqual(['alpha', 'zeta']);
    store.clear();
    expect(store.metrics()).toEqual([]);
    expect(store.latest('alpha')).toBeNull();
  });
});
