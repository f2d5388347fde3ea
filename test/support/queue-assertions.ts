/**
 * What the templates say of every dead-letter and failure queue, as template matchers: the
 * statement that refuses requests without TLS, and the alarm on its first visible message.
 */

/** The queue policy statement denying every request that is not over TLS. */
export const tlsOnlyStatement = (queueId: string) => ({
  Effect: 'Deny',
  Action: 'sqs:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Principal: { AWS: '*' },
  Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
});

/** The alarm that notifies `topicId` as soon as one message is visible in the queue. */
export const firstMessageAlarm = (queueId: string, topicId: string | undefined) => ({
  Namespace: 'AWS/SQS',
  MetricName: 'ApproximateNumberOfMessagesVisible',
  Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
  ComparisonOperator: 'GreaterThanThreshold',
  Threshold: 0,
  AlarmActions: [{ Ref: topicId }],
});
