import { checkField } from './config-editor';

describe('checkField', () => {
  const port = { name: 'port', kind: 'integer' as const, schema: { type: 'integer', minimum: 1, maximum: 65535 } };
  const name = { name: 'name', kind: 'text' as const, schema: { type: 'string', minLength: 3 } };

  it('accepts an integer within min/max, also as a string', () => {
    expect(checkField(port, 8080, true)).toBeNull();
    expect(checkField(port, '1', true)).toBeNull();
    expect(checkField(port, 65535, true)).toBeNull();
  });

  it('rejects integers outside min/max', () => {
    expect(checkField(port, 0, true)).toBe('must be ≥ 1');
    expect(checkField(port, 70000, true)).toBe('must be ≤ 65535');
  });

  it('rejects non-integers for an integer field', () => {
    expect(checkField(port, 1.5, true)).toBe('must be a whole number');
    expect(checkField(port, 'abc', true)).toBe('must be a whole number');
  });

  it('reports an empty required value, allows an empty optional one', () => {
    expect(checkField(port, '', true)).toBe('required');
    expect(checkField(port, null, true)).toBe('required');
    expect(checkField(port, '', false)).toBeNull();
  });

  it('checks minLength for text', () => {
    expect(checkField(name, 'ab', false)).toBe('at least 3 characters');
    expect(checkField(name, 'abc', false)).toBeNull();
  });
});
