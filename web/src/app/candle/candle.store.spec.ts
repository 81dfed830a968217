import { QuantizeReply } from '../core/types';
import {
  agoText, concreteShape, datatypeOf, expiryText, formatBytes, memoryText, parseRequest, reportLines, requestTemplate, shapeText,
  summarize, timingText,
} from './candle.store';

describe('datatypeOf', () => {
  it.each([
    ['FLOAT', 'FP32'], ['float', 'FP32'], ['FLOAT16', 'FP16'], ['DOUBLE', 'FP64'], ['STRING', 'BYTES'],
    ['INT64', 'INT64'], ['int32', 'INT32'], ['BOOL', 'BOOL'], ['UINT8', 'UINT8'], ['INT8', 'INT8'],
  ])('%s → %s', (elementType, datatype) => {
    expect(datatypeOf(elementType)).toBe(datatype);
  });
});

describe('shapes', () => {
  it('prints dynamic dimensions as "?", from strings (candle) or numbers (the catalog)', () => {
    expect(shapeText(['-1', '384'])).toBe('[?, 384]');
    expect(shapeText([1, 4, 384])).toBe('[1, 4, 384]');
    expect(shapeText([])).toBe('[]');
  });

  it('sends dynamic dimensions as 1', () => {
    expect(concreteShape(['-1', '-1', '384'])).toEqual([1, 1, 384]);
    expect(concreteShape([3, -1])).toEqual([3, 1]);
  });
});

describe('requestTemplate', () => {
  it('fills each input of the signature with values of its kind, one input a line', () => {
    const text = requestTemplate([
      { name: 'input_ids', elementType: 'INT64', shape: ['-1', '-1'] },
      { name: 'attention_mask', elementType: 'INT64', shape: ['-1', '-1'] },
      { name: 'token_type_ids', elementType: 'INT64', shape: ['-1', '-1'] },
      { name: 'pixels', elementType: 'float', shape: [1, 2, 2] },
      { name: 'flag', elementType: 'BOOL', shape: ['2'] },
      { name: 'text', elementType: 'STRING', shape: ['-1'] },
    ]);
    expect(JSON.parse(text)).toEqual({ inputs: [
      { name: 'input_ids', shape: [1, 1], datatype: 'INT64', data: [1] },
      { name: 'attention_mask', shape: [1, 1], datatype: 'INT64', data: [1] },
      { name: 'token_type_ids', shape: [1, 1], datatype: 'INT64', data: [0] },
      { name: 'pixels', shape: [1, 2, 2], datatype: 'FP32', data: [0, 0, 0, 0] },
      { name: 'flag', shape: [2], datatype: 'BOOL', data: [false, false] },
      { name: 'text', shape: [1], datatype: 'BYTES', data: [''] },
    ] });
    expect(text.split('\n')).toHaveLength(10);
  });

  it('gives an empty list for a model without inputs', () => {
    expect(JSON.parse(requestTemplate([]))).toEqual({ inputs: [] });
  });
});

describe('parseRequest', () => {
  it('takes an OIP request', () => {
    expect(parseRequest('{"inputs": []}')).toEqual({ body: { inputs: [] } });
  });

  it('says what is wrong with bad JSON or a missing inputs array', () => {
    const bad = parseRequest('{"inputs": [');
    expect('problem' in bad && bad.problem.title).toBe('The request is not valid JSON');
    const none = parseRequest('{"input": []}');
    expect('problem' in none && none.problem.title).toBe('The request has no "inputs" array');
    expect('problem' in parseRequest('null')).toBe(true);
  });
});

describe('summarize', () => {
  it('shows the first values and how many there are', () => {
    expect(summarize({ name: 'y', datatype: 'FP32', shape: [1, 8], data: [0.123456, -1.5, 2, 3, 4, 5, 6, 7] }, 3))
      .toBe('0.1235, -1.5, 2, … (8 values)');
    expect(summarize({ name: 'y', datatype: 'INT64', shape: [2], data: [1, 2] })).toBe('1, 2 (2 values)');
    expect(summarize({ name: 'y', datatype: 'BYTES', shape: [1], data: ['a'] })).toBe('"a" (1 value)');
    expect(summarize({ name: 'y', datatype: 'FP32', shape: [0] })).toBe('no values');
  });
});

describe('timingText', () => {
  it('gives the run, the round trip, the queue and the batch', () => {
    expect(timingText({ model_name: 'm', outputs: [], parameters: { duration_us: 3250, queue_us: 0, batch_requests: 1, provider: 'CPU' } }, 12))
      .toBe('3.3 ms run · 12.0 ms round trip · not batched · CPU');
    expect(timingText({ model_name: 'm', outputs: [], parameters: { duration_us: 1000, queue_us: 500, batch_requests: 3 } }, 2))
      .toBe('1.0 ms run · 2.0 ms round trip · queued 0.5 ms · batched with 2 other requests');
  });
});

describe('times and memory', () => {
  const now = 1_000_000;

  it('tells when an idle model goes', () => {
    expect(expiryText('0', now)).toBe('kept');
    expect(expiryText(String(now + 252_000), now)).toBe('in 4m 12s');
    expect(expiryText(String(now - 1), now)).toBe('due');
  });

  it('tells when a model was last used', () => {
    expect(agoText(String(now - 12_000), now)).toBe('12s ago');
    expect(agoText('0', now)).toBe('–');
  });

  it('gives memory used, and the budget when there is one', () => {
    expect(formatBytes('90000000')).toBe('86 MiB');
    expect(memoryText('90000000', '0')).toBe('86 MiB used, no budget');
    expect(memoryText(String(512 * 1024 * 1024), String(2 * 1024 ** 3))).toBe('512 MiB used of a 2.0 GiB budget (25 %)');
  });
});

describe('reportLines', () => {
  const reply: QuantizeReply = {
    newModelId: 'id-2', newModelName: 'all-minilm-l6-v2-int8', sizeBeforeBytes: String(90 * 1024 * 1024),
    sizeAfterBytes: String(23 * 1024 * 1024), durationMs: '1840', quantizedWeights: 37, quantizedOps: ['MatMul', 'Gather'],
    maxAbsError: 0.0123456, minCosine: 0.99712, meanCosine: '0.99871', samples: 8, checkMs: '420',
  };

  it('gives the sizes with the ratio, what was quantized and how close the outputs stay', () => {
    expect(reportLines(reply)).toEqual([
      ['new model', 'all-minilm-l6-v2-int8'],
      ['size', '90 MiB → 23 MiB (26 % of the original)'],
      ['weights quantized', '37'],
      ['ops', 'MatMul, Gather'],
      ['cosine fp32 / int8', 'min 0.9971, mean 0.9987'],
      ['max abs error', '0.01235'],
      ['samples', '8 generated inputs, checked in 420 ms'],
      ['written in', '1840 ms'],
    ]);
  });

  it('says when nothing was checked or quantized', () => {
    const lines = reportLines({ ...reply, samples: 0, quantizedOps: [], quantizedWeights: 0, newModelName: '' });
    expect(lines).toContainEqual(['accuracy', 'not checked']);
    expect(lines).toContainEqual(['ops', 'none']);
    expect(lines[0]).toEqual(['new model', 'id-2']);
  });
});
