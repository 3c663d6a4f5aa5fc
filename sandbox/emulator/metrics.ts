/**
 * The sandbox's CloudWatch metrics: datapoints the emulated load balancers publish as they answer real traffic
 * (AWS/ApplicationELB RequestCount and HTTPCode_Target_5XX_Count), and what PutMetricData sends. The CloudWatch
 * emulator's alarms are computed from these, so an alarm goes to ALARM because a revision really answered 5xx.
 */

export interface MetricDimension {
  Name: string;
  Value: string;
}

export interface MetricKey {
  namespace: string;
  metricName: string;
  dimensions: readonly MetricDimension[];
}

interface Datapoint {
  at: number;
  value: number;
}

export type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';

/** CloudWatch identifies a metric by namespace, name and the exact set of dimensions (order does not matter). */
export function metricId(key: MetricKey): string {
  const dims = [...key.dimensions]
    .sort((a, b) => a.Name.localeCompare(b.Name))
    .map((d) => `${d.Name}=${d.Value}`)
    .join(',');
  return `${key.namespace}|${key.metricName}|${dims}`;
}

export class MetricStore {
  private readonly series = new Map<string, Datapoint[]>();

  record(key: MetricKey, value: number, at = Date.now()): void {
    const id = metricId(key);
    const points = this.series.get(id) ?? [];
    points.push({ at, value });
    // A bounded history: alarms look back at most EvaluationPeriods × Period.
    if (points.length > 50_000) points.splice(0, points.length - 50_000);
    this.series.set(id, points);
  }

  /** The statistic over [start, end), or undefined when the period holds no datapoint (missing data). */
  statistic(key: MetricKey, stat: Statistic, start: number, end: number): number | undefined {
    const values = (this.series.get(metricId(key)) ?? [])
      .filter((p) => p.at >= start && p.at < end)
      .map((p) => p.value);
    if (values.length === 0) return undefined;
    switch (stat) {
      case 'SampleCount':
        return values.length;
      case 'Sum':
        return values.reduce((a, b) => a + b, 0);
      case 'Average':
        return values.reduce((a, b) => a + b, 0) / values.length;
      case 'Minimum':
        return Math.min(...values);
      case 'Maximum':
        return Math.max(...values);
    }
  }
}

/**
 * What an emulated Application Load Balancer publishes per answer, as ALB does: RequestCount for every request, and
 * HTTPCode_Target_5XX_Count for a 5xx the target sent (the load balancer's own 503 "no healthy targets" is
 * HTTPCode_ELB_5XX_Count). Each under {LoadBalancer} and {LoadBalancer, TargetGroup}, the dimension sets ALB uses.
 */
export function publishAlbAnswer(
  store: MetricStore,
  ids: { loadBalancer: string; targetGroup?: string },
  answer: { status: number; fromTarget: boolean },
  at = Date.now(),
): void {
  const sets: MetricDimension[][] = [[{ Name: 'LoadBalancer', Value: ids.loadBalancer }]];
  if (ids.targetGroup)
    sets.push([
      { Name: 'LoadBalancer', Value: ids.loadBalancer },
      { Name: 'TargetGroup', Value: ids.targetGroup },
    ]);
  for (const dimensions of sets) {
    const key = (metricName: string) => ({ namespace: 'AWS/ApplicationELB', metricName, dimensions });
    store.record(key('RequestCount'), 1, at);
    // As ALB: a count with nothing to count is not reported (missing data, not 0): alarms on it need
    // TreatMissingData notBreaching, or FILL(m, 0) in metric math.
    if (answer.status >= 500 && answer.status <= 599)
      store.record(key(answer.fromTarget ? 'HTTPCode_Target_5XX_Count' : 'HTTPCode_ELB_5XX_Count'), 1, at);
  }
}

/** `targetgroup/<name>/<id>`: the TargetGroup dimension of a target group ARN. */
export function targetGroupDimension(arn: string): string {
  return arn.slice(arn.indexOf('targetgroup/'));
}
