import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildErrorMessage, OtrErrorCode, parseErrorMessage } from '../ts/codec/error-message.js';
import { OtrArgumentError } from '../ts/errors.js';

test('building: "?OTR Error: ERROR_N: text" with the spec texts', () => {
  assert.is(buildErrorMessage(OtrErrorCode.unreadable), '?OTR Error: ERROR_1: Unreadable message');
  assert.is(buildErrorMessage(OtrErrorCode.notInPrivateState), '?OTR Error: ERROR_2: Not in private state message');
  assert.is(buildErrorMessage(OtrErrorCode.malformed), '?OTR Error: ERROR_3: Malformed message');
  assert.is(buildErrorMessage(1, 'x'), '?OTR Error: ERROR_1: x');
  assert.throws(() => buildErrorMessage(9 as 1), (e: unknown) => e instanceof OtrArgumentError);
});

test('parsing otr4j and otrr forms', () => {
  assert.equal(parseErrorMessage('?OTR Error: ERROR_1: Unreadable message'), { code: 1, text: 'Unreadable message' });
  assert.equal(parseErrorMessage('?OTR Error:unreadable message'), { text: 'unreadable message' });
  assert.equal(parseErrorMessage('?OTR Error: something broke'), { text: 'something broke' });
  assert.equal(parseErrorMessage('?OTR Error: ERROR_7: future'), { code: 7, text: 'future' });
  assert.equal(parseErrorMessage('?OTR Error:ERROR_3:x'), { code: 3, text: 'x' });
  for (const c of [1, 2, 3] as const) assert.is(parseErrorMessage(buildErrorMessage(c))?.code, c);
});

test('only at the start position', () => {
  assert.is(parseErrorMessage('hi ?OTR Error: ERROR_1: x'), undefined);
  assert.is(parseErrorMessage(' ?OTR Error: x'), undefined);
  assert.is(parseErrorMessage('?OTR error: x'), undefined);
});

test.run();
