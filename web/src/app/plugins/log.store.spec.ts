import { LogLine } from '../core/types';
import { LogStore } from './log.store';

const line = (seq: number, level: string, text = `line ${seq}`): LogLine =>
  ({ seq, timestamp: '2024-01-01T00:00:00Z', stream: 'stdout', level, text });

describe('LogStore', () => {
  it('keeps at most capacity lines, dropping the oldest', () => {
    const store = new LogStore(3);
    for (let seq = 1; seq <= 5; seq++) store.add(line(seq, 'INFO'));
    expect(store.lines().map(l => l.seq)).toEqual([3, 4, 5]);
  });

  it('ignores lines at or before the last seq (reconnect replay) and reports lastSeq', () => {
    const store = new LogStore();
    expect(store.lastSeq()).toBeNull();
    store.add(line(1, 'INFO'));
    store.add(line(2, 'INFO'));
    store.add(line(2, 'INFO', 'replayed'));
    store.add(line(1, 'INFO', 'replayed'));
    expect(store.lines().map(l => l.text)).toEqual(['line 1', 'line 2']);
    expect(store.lastSeq()).toBe(2);
  });

  describe('filters', () => {
    let store: LogStore;
    beforeEach(() => {
      store = new LogStore();
      store.add(line(1, 'ERROR', 'disk failed'));
      store.add(line(2, 'WARN', 'Disk almost full'));
      store.add(line(3, 'INFO', 'started'));
      store.add(line(4, 'DEBUG', 'disk probe'));
      store.add(line(5, '', 'no level'));
      store.add(line(6, 'weird', 'unknown level'));
    });
    const seqs = () => store.visible().map(l => l.seq);

    it('ALL shows every line', () => {
      expect(seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('WARN shows ERROR and WARN only', () => {
      store.level.set('WARN');
      expect(seqs()).toEqual([1, 2]);
    });

    it('counts unknown or empty levels as INFO', () => {
      store.level.set('INFO');
      expect(seqs()).toEqual([1, 2, 3, 5, 6]);
    });

    it('searches case-insensitively', () => {
      store.search.set('  DISK ');
      expect(seqs()).toEqual([1, 2, 4]);
    });

    it('combines level and search', () => {
      store.level.set('WARN');
      store.search.set('disk');
      expect(seqs()).toEqual([1, 2]);
      store.level.set('ERROR');
      expect(seqs()).toEqual([1]);
    });
  });
});
