import { dedupeRepresentations, expandEntities } from './representations';

describe('entity representations', () => {
  const product = (id: string) => ({ __typename: 'Product', id });

  it('sends equal representations once and fans the answers back out in the original order', () => {
    const reps = [product('a'), product('b'), product('a'), product('a'), product('c'), product('b')];
    const { unique, slots } = dedupeRepresentations(reps);
    expect(unique).toEqual([product('a'), product('b'), product('c')]);
    expect(slots).toEqual([0, 1, 0, 0, 2, 1]);
    const answered = expandEntities({ data: { _entities: [{ sku: 'A' }, { sku: 'B' }, null] } }, slots);
    expect(answered.data?._entities).toEqual([{ sku: 'A' }, { sku: 'B' }, { sku: 'A' }, { sku: 'A' }, null, { sku: 'B' }]);
  });

  it('reports an error about a distinct entity at the first position that asked for it', () => {
    const { slots } = dedupeRepresentations([product('a'), product('c'), product('c')]);
    const answered = expandEntities(
      { data: { _entities: [{ sku: 'A' }, null] }, errors: [{ message: 'Product not found', path: ['_entities', 1, 'sku'] }, { message: 'elsewhere' }] },
      slots,
    );
    expect(answered.errors).toEqual([{ message: 'Product not found', path: ['_entities', 1, 'sku'] }, { message: 'elsewhere' }]);
    const shifted = expandEntities({ data: { _entities: [{ sku: 'C' }, null] }, errors: [{ message: 'x', path: ['_entities', 1] }] }, dedupeRepresentations([product('c'), product('c'), product('d')]).slots);
    expect(shifted.errors).toEqual([{ message: 'x', path: ['_entities', 2] }]);
  });

  it('leaves answers without entities alone', () => {
    const response = { data: null, errors: [{ message: 'At most 1000 entity representations per request' }] };
    expect(expandEntities(response, [0, 0])).toBe(response);
  });
});
