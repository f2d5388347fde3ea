import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/**
 * Runs a Query to its end: a Query answers at most 1 MB a page and says where to go on in
 * LastEvaluatedKey (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html),
 * so every page is handed to `onPage` in order until none follows.
 */
export async function forEachQueryPage(
  documents: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
  onPage: (page: QueryCommandOutput) => void,
): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    onPage(page);
    start = page.LastEvaluatedKey;
  } while (start);
}
