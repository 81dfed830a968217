import { documentsFrom, textId } from './brainml.store';

describe('documentsFrom', () => {
  it('splits "label | text" lines, keeps unlabelled lines, skips blanks, ids from the text', () => {
    const docs = documentsFrom('greeting | hello there\n\n  just text  \n   \nfarewell|bye');
    expect(docs).toEqual([
      { id: textId('hello there'), text: 'hello there', label: 'greeting' },
      { id: textId('just text'), text: 'just text' },
      { id: textId('bye'), text: 'bye', label: 'farewell' },
    ]);
  });

  it('treats a leading bar as no label', () => {
    expect(documentsFrom('| text')).toEqual([{ id: textId('| text'), text: '| text' }]);
  });

  it('returns nothing for blank input', () => {
    expect(documentsFrom('\n  \n')).toEqual([]);
  });
});

describe('textId', () => {
  it('is the same for the same text and differs for different texts', () => {
    expect(textId('a man is eating food')).toBe(textId('a man is eating food'));
    expect(textId('a man is eating food')).not.toBe(textId('a man is eating bread'));
    expect(textId('')).toBe('t-811c9dc5');
    expect(textId('a')).toMatch(/^t-[0-9a-f]{8}$/);
  });
});
