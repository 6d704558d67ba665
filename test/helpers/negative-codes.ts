// The codec code each malformed reference vector (../shared/ltx-vectors/negative/) must be rejected with.

import type { LTXErrorCode } from '../../src/ltx/errors.ts';

export const NEGATIVE_CODES: Record<string, LTXErrorCode> = {
  'negative/bad-magic.ltx': 'LTX_BAD_MAGIC',
  'negative/header-flag-0x1.ltx': 'LTX_BAD_FLAGS',
  'negative/bad-page-size.ltx': 'LTX_BAD_PAGE_SIZE',
  'negative/min-txid-zero.ltx': 'LTX_BAD_TXID',
  'negative/txid-order.ltx': 'LTX_BAD_TXID',
  'negative/snapshot-with-preapply.ltx': 'LTX_BAD_HEADER',
  'negative/incr-missing-preapply.ltx': 'LTX_BAD_HEADER',
  'negative/incr-preapply-no-flag.ltx': 'LTX_BAD_HEADER',
  'negative/reserved-byte-set.ltx': 'LTX_RESERVED_SET',
  'negative/page-flag-0x2.ltx': 'LTX_BAD_PAGE_HEADER',
  'negative/payload-bitflip.ltx': 'LTX_BAD_PAGE_DATA',
  'negative/file-checksum-bitflip.ltx': 'LTX_FILE_CHECKSUM_MISMATCH',
  'negative/file-checksum-no-flag.ltx': 'LTX_FILE_CHECKSUM_MISMATCH',
  'negative/truncated.ltx': 'LTX_TRUNCATED',
  'negative/snapshot-wrong-postapply.ltx': 'LTX_POST_APPLY_MISMATCH',
  'negative/lax-out-of-order.ltx': 'LTX_PAGE_ORDER',
  'negative/legacy-v1-litestream-testdata.ltx': 'LTX_BAD_PAGE_HEADER',
};
