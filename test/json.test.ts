import { parseJsonBody } from '../lib/json';

describe('parseJsonBody: a key that repeats', () => {
  it.each([
    ['{"name":"a","name":"b"}', 'name'],
    ['{"participants":[{"user_id":"a"},{"user_id":"b","user_id":"c"}]}', 'participants[1].user_id'],
    ['{"a":{"b":1,"c":{"d":1,"d":2}}}', 'a.c.d'],
    ['{"n\\u0061me":1,"name":2}', 'name'],
    ['[{"x":1},{"x":1,"y":[1,{"z":1,"z":1}]}]', '[1].y[1].z'],
  ])('finds the duplicate in %s at %s', (text, path) => {
    expect(() => parseJsonBody(text)).toThrow(`${path}: appears more than once in the JSON object`);
  });

  it.each([
    '{"a":1,"b":{"a":1}}',
    '[{"a":1},{"a":1}]',
    '{"a":"\\"a\\":1,","b":"{"}',
    '"{\\"a\\":1,\\"a\\":2}"',
    '{}',
    '[]',
    '1',
  ])('accepts %s', (text) => {
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });
});

describe('parseJsonBody', () => {
  it('names the body when it is not JSON and the field when a key repeats', () => {
    expect(() => parseJsonBody('{')).toThrow(/^body: is not valid JSON/);
    expect(() => parseJsonBody('{"name":"a","name":"b"}')).toThrow('name: appears more than once in the JSON object');
    expect(parseJsonBody('{"name":"a"}')).toEqual({ name: 'a' });
  });
});
