import { type ConsortiumMember, verifyReceipt } from '@alliance/sdk';

export type ReceiptCheck = { readonly state: 'verified'; readonly certifiedBy: readonly string[] } | { readonly state: 'failed'; readonly why: string };

/**
 * The in-browser check behind the green check: the SDK verifies the receipt
 * completely (inclusion proof, result, envelope signature, certification by
 * the pinned members), and it must be the receipt of the transaction and
 * block the user is looking at — a valid receipt of another one fails too.
 */
export function checkReceipt(receipt: unknown, members: readonly ConsortiumMember[], transactionId: string, blockNumber: number): ReceiptCheck {
  if (receipt === undefined || receipt === null) return { state: 'failed', why: 'no receipt was served (the block is not certified yet)' };
  if (members.length === 0) return { state: 'failed', why: 'no members to check the signatures against' };
  const verdict = verifyReceipt(receipt, { members });
  if (!verdict.ok) return { state: 'failed', why: `${verdict.reason}: ${verdict.detail}` };
  if (verdict.transactionId !== transactionId || verdict.blockNumber !== blockNumber) {
    return { state: 'failed', why: `the receipt is for transaction ${verdict.transactionId} in block ${verdict.blockNumber}` };
  }
  return { state: 'verified', certifiedBy: verdict.certifiedBy };
}
