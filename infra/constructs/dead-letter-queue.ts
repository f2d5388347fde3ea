import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What the alarm tells the operator went wrong. */
  readonly alarmDescription: string;
  /**
   * Where the alarm notifies.
   * @default - an alarm without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Period of the alarm's metric.
   * @default Duration.minutes(1)
   */
  readonly alarmPeriod?: Duration;
  /**
   * @default - SQS's (the queue is deleted with the stack)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An encrypted, TLS-only queue that keeps what failed for 14 days (time for a redrive), with an
 * alarm on the first visible message.
 *
 * The alarm is a sibling of the queue (`<id>` ending in `Queue` becomes `...Alarm`), not a child,
 * so both keep the logical ids they had before this construct existed and are not replaced.
 */
export class DeadLetterQueue extends sqs.Queue {
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    if (!id.endsWith('Queue')) throw new Error(`DeadLetterQueue ids end in "Queue" (got ${id})`);
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    this.alarm = new cloudwatch.Alarm(scope, id.replace(/Queue$/, 'Alarm'), {
      alarmDescription: props.alarmDescription,
      metric: this.metricApproximateNumberOfMessagesVisible({
        period: props.alarmPeriod ?? Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }
}
