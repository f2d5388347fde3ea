import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Puts items as they are, 25 to a BatchWriteItem call (its most), retrying the unprocessed ones
 * a few times: how the benchmarks seed large months without going through the bus
 * (https://docs.aws.amazon.com/goto/WebAPI/dynamodb/BatchWriteItem).
 */
export async function batchPutAll(
  documents: DynamoDBDocumentClient,
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  for (let offset = 0; offset < items.length; offset += 25) {
    let pending: Record<string, unknown>[] = items
      .slice(offset, offset + 25)
      .map((item) => ({ PutRequest: { Item: item } }));
    for (let attempt = 0; pending.length > 0 && attempt < 10; attempt++) {
      const result = await documents.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
      );
      pending = (result.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
    }
    if (pending.length > 0) throw new Error('BatchWriteItem left unprocessed items');
  }
}
