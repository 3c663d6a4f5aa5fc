import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';

/**
 * The alarm the tests and the demo bake with, as a user would create it: any target 5xx behind the load balancer in
 * a (60-second) period. ALB reports no 5xx count for a period without one, so missing data is not breaching.
 */
export function targetFiveXxAlarm(name: string, loadBalancer: string): PutMetricAlarmCommandInput {
  return {
    AlarmName: name,
    Namespace: 'AWS/ApplicationELB',
    MetricName: 'HTTPCode_Target_5XX_Count',
    Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }],
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };
}
