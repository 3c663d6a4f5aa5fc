import { ACCOUNT_ID } from './ecr';
import type { MetricDimension, MetricKey, MetricStore, Statistic } from './metrics';
import { AwsFault, epochSeconds, NO_RESULT } from './protocol';
import type { OperationHandler, ServiceDefinition } from './server';

/**
 * Amazon CloudWatch alarms, computed from the sandbox's metrics (sandbox/emulator/metrics.ts): a metric alarm (one
 * metric, or metric math over several) is evaluated every period, as CloudWatch does, so it goes to ALARM when a
 * revision really answers 5xx behind an emulated load balancer. Served over AWS JSON 1.0 with awsQueryCompatible (what
 * @aws-sdk/client-cloudwatch speaks: target GraniteServiceVersion20100801) and over awsQuery (the aws CLI, older
 * SDKs), as AWS serves both.
 */

export const CLOUDWATCH_XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const REGION = 'us-east-1';
type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
const STATES: readonly State[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
const STATISTICS: readonly Statistic[] = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const COMPARISONS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
type Comparison = (typeof COMPARISONS)[number];
const TREAT_MISSING = ['breaching', 'notBreaching', 'ignore', 'missing'] as const;
type TreatMissing = (typeof TREAT_MISSING)[number];

interface MetricQuery {
  Id: string;
  MetricStat?: { Metric: MetricKey; Period: number; Stat: Statistic };
  Expression?: string;
  ReturnData: boolean;
  Label?: string;
}

interface Alarm {
  name: string;
  arn: string;
  description?: string;
  actionsEnabled: boolean;
  single?: { metric: MetricKey; statistic: Statistic };
  queries?: MetricQuery[];
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: Comparison;
  treatMissing: TreatMissing;
  state: State;
  reason: string;
  reasonData?: string;
  stateUpdated: Date;
  configured: Date;
  /** SetAlarmState's state holds until the next evaluation period ends, as in CloudWatch. */
  manualUntil?: number;
  tags: { Key: string; Value: string }[];
}

export class CloudWatchEmulator {
  /** Real milliseconds per emulated second: tests and the demo shrink a 60-second period to 60 × secondMs. */
  timing = { secondMs: 1000 };
  private readonly alarms = new Map<string, Alarm>();
  private readonly listeners: ((name: string, state: State) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly metrics: MetricStore) {}

  /** Called on every state change (the ECS emulator's deployment alarms follow CloudWatch through this). */
  onStateChange(listener: (name: string, state: State) => void): void {
    this.listeners.push(listener);
  }

  /** Evaluates every alarm on a tick a quarter of the shortest period long, until stop(). */
  start(): void {
    const tick = () => {
      this.evaluateAll();
      const shortest = Math.min(60, ...[...this.alarms.values()].map((a) => a.period));
      this.timer = setTimeout(tick, Math.max(20, (shortest * this.timing.secondMs) / 4));
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The alarm's state now, for tests and the demo. */
  stateOf(name: string): State | undefined {
    this.evaluateAll();
    return this.alarms.get(name)?.state;
  }

  definitions(): ServiceDefinition[] {
    const operations: Record<string, (p: Record<string, unknown>, query: boolean) => unknown> = {
      DescribeAlarms: (p, q) => this.describeAlarms(p, q),
      PutMetricAlarm: (p, q) => this.putMetricAlarm(p, q),
      SetAlarmState: (p) => this.setAlarmState(p),
      DeleteAlarms: (p) => this.deleteAlarms(p),
      PutMetricData: (p, q) => this.putMetricData(p, q),
    };
    const bind = (query: boolean) =>
      Object.fromEntries(
        Object.entries(operations).map(([name, op]): [string, OperationHandler] => [
          name,
          (p) => {
            const result = op(p, query);
            // No output shape: awsQuery sends no <Result>, JSON an empty object.
            if (result === undefined) return query ? NO_RESULT : {};
            return query ? result : epochDates(result);
          },
        ]),
      );
    return [
      {
        name: 'cloudwatch',
        protocol: 'json',
        targetPrefix: 'GraniteServiceVersion20100801',
        contentType: 'application/x-amz-json-1.0',
        queryCompatible: true,
        operations: bind(false),
      },
      { name: 'cloudwatch', protocol: 'query', version: '2010-08-01', xmlns: CLOUDWATCH_XMLNS, operations: bind(true) },
    ];
  }

  // ---- operations -------------------------------------------------------------------------------------------------

  private describeAlarms(p: Record<string, unknown>, query: boolean) {
    const names = list(p.AlarmNames, 'AlarmNames').map(String);
    const prefix = optionalString(p.AlarmNamePrefix);
    if (names.length > 0 && prefix !== undefined)
      throw invalidCombination('AlarmNames and AlarmNamePrefix cannot be specified together.');
    if (names.length > 100)
      throw validation(
        `Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`,
      );
    const types = list(p.AlarmTypes, 'AlarmTypes').map(String);
    for (const t of types)
      if (t !== 'MetricAlarm' && t !== 'CompositeAlarm')
        throw validation(
          `Value '${t}' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]`,
        );
    const stateValue = optionalString(p.StateValue);
    if (stateValue !== undefined && !STATES.includes(stateValue as State))
      throw validation(
        `Value '${stateValue}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [OK, ALARM, INSUFFICIENT_DATA]`,
      );
    const maxRecords = optionalInteger(p.MaxRecords, 'MaxRecords', query) ?? 50;
    if (maxRecords < 1 || maxRecords > 100)
      throw validation(
        `Value '${maxRecords}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
      );
    this.evaluateAll();
    const wantsMetric = types.length === 0 || types.includes('MetricAlarm');
    const matching = wantsMetric
      ? [...this.alarms.values()]
          .filter(
            (a) =>
              (names.length === 0 || names.includes(a.name)) && (prefix === undefined || a.name.startsWith(prefix)),
          )
          .filter((a) => stateValue === undefined || a.state === stateValue)
          .sort((a, b) => a.name.localeCompare(b.name))
      : [];
    const token = optionalString(p.NextToken);
    let start = 0;
    if (token !== undefined) {
      start = Number.parseInt(
        Buffer.from(token, 'base64')
          .toString('utf8')
          .replace(/^offset:/, ''),
        10,
      );
      if (!Number.isInteger(start) || start < 0 || start > matching.length)
        throw new AwsFault('InvalidNextToken', 'The service returned an invalid next token.', 400);
    }
    const page = matching.slice(start, start + maxRecords);
    const next =
      start + maxRecords < matching.length ? Buffer.from(`offset:${start + maxRecords}`).toString('base64') : undefined;
    return {
      ...(types.includes('CompositeAlarm') ? { CompositeAlarms: [] } : {}),
      MetricAlarms: page.map((a) => this.view(a)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private putMetricAlarm(p: Record<string, unknown>, query: boolean): undefined {
    const name = requiredString(p.AlarmName, 'AlarmName');
    if (name.length > 255)
      throw validation(
        `Value at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255`,
      );
    const evaluationPeriods = optionalInteger(p.EvaluationPeriods, 'EvaluationPeriods', query);
    if (evaluationPeriods === undefined) throw missing('EvaluationPeriods');
    if (evaluationPeriods < 1)
      throw validation(
        `Value '${evaluationPeriods}' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    const comparison = requiredString(p.ComparisonOperator, 'ComparisonOperator');
    if (!(COMPARISONS as readonly string[]).includes(comparison))
      throw validation(
        `Value '${comparison}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [${COMPARISONS.join(', ')}]`,
      );
    const threshold = optionalNumber(p.Threshold, 'Threshold', query);
    if (threshold === undefined) throw missing('Threshold');
    const treatMissing = optionalString(p.TreatMissingData) ?? 'missing';
    if (!(TREAT_MISSING as readonly string[]).includes(treatMissing))
      throw new AwsFault(
        'InvalidParameterValue',
        `Invalid value for TreatMissingData: ${treatMissing}. Valid values are: breaching, notBreaching, ignore, missing`,
      );
    const datapoints = optionalInteger(p.DatapointsToAlarm, 'DatapointsToAlarm', query) ?? evaluationPeriods;
    if (datapoints < 1 || datapoints > evaluationPeriods)
      throw new AwsFault('InvalidParameterValue', 'DatapointsToAlarm must be between 1 and EvaluationPeriods.');

    const metricName = optionalString(p.MetricName);
    const metricsGiven = list(p.Metrics, 'Metrics');
    if (metricName !== undefined && metricsGiven.length > 0)
      throw invalidCombination('Metrics list and MetricName cannot be specified together.');
    if (metricName === undefined && metricsGiven.length === 0)
      throw invalidCombination('Either MetricName or Metrics must be specified.');
    let single: Alarm['single'];
    let queries: MetricQuery[] | undefined;
    let period: number;
    if (metricName !== undefined) {
      const namespace = requiredString(p.Namespace, 'Namespace');
      const statistic = optionalString(p.Statistic);
      if (statistic === undefined) throw invalidCombination('Either Statistic or ExtendedStatistic must be specified.');
      if (!STATISTICS.includes(statistic as Statistic))
        throw validation(
          `Value '${statistic}' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [${STATISTICS.join(', ')}]`,
        );
      const givenPeriod = optionalInteger(p.Period, 'Period', query);
      if (givenPeriod === undefined) throw missing('Period');
      period = givenPeriod;
      single = {
        metric: { namespace, metricName, dimensions: dimensionsOf(p.Dimensions) },
        statistic: statistic as Statistic,
      };
    } else {
      for (const field of ['Namespace', 'Statistic', 'Period', 'Dimensions'] as const)
        if (p[field] !== undefined && !(Array.isArray(p[field]) && (p[field] as unknown[]).length === 0))
          throw invalidCombination(`Metrics list and ${field} cannot be specified together.`);
      queries = metricsGiven.map((q, i) => metricQuery(q, i, query));
      if (queries.length > 10)
        throw validation(
          `Value at 'metrics' failed to satisfy constraint: Member must have length less than or equal to 10`,
        );
      const returned = queries.filter((q) => q.ReturnData);
      if (returned.length !== 1)
        throw new AwsFault('ValidationError', 'Exactly one element of the metrics list should return data.');
      const ids = new Set<string>();
      for (const q of queries) {
        if (ids.has(q.Id))
          throw new AwsFault('ValidationError', `The value ${q.Id} for parameter Metrics.member.Id is not unique.`);
        ids.add(q.Id);
        if (q.Expression)
          for (const ref of referencedIds(q.Expression))
            if (!queries.some((o) => o.Id === ref))
              throw new AwsFault('ValidationError', `Error in expression '${q.Id}': Unrecognized identifier ${ref}`);
      }
      const periods = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Period] : []));
      if (periods.length === 0)
        throw new AwsFault('ValidationError', 'The metrics list must contain at least one metric with a MetricStat.');
      period = periods[0]!;
    }
    if (!validPeriod(period))
      throw new AwsFault(
        'InvalidParameterValue',
        `The parameter Period must be 10, 20, 30 or a multiple of 60 (got ${period}).`,
      );

    const existing = this.alarms.get(name);
    const now = new Date();
    const alarm: Alarm = {
      name,
      arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT_ID}:alarm:${name}`,
      ...(optionalString(p.AlarmDescription) !== undefined ? { description: optionalString(p.AlarmDescription)! } : {}),
      actionsEnabled: bool(p.ActionsEnabled, true),
      ...(single ? { single } : {}),
      ...(queries ? { queries } : {}),
      period,
      evaluationPeriods,
      datapointsToAlarm: datapoints,
      threshold,
      comparison: comparison as Comparison,
      treatMissing: treatMissing as TreatMissing,
      // A new alarm starts in INSUFFICIENT_DATA; an update keeps its state until the next evaluation.
      state: existing?.state ?? 'INSUFFICIENT_DATA',
      reason: existing?.reason ?? 'Unchecked: Initial alarm creation',
      stateUpdated: existing?.stateUpdated ?? now,
      configured: now,
      tags: existing?.tags ?? tagsOf(p.Tags),
    };
    this.alarms.set(name, alarm);
    this.evaluate(alarm, Date.now());
    return undefined;
  }

  private setAlarmState(p: Record<string, unknown>): undefined {
    const name = requiredString(p.AlarmName, 'AlarmName');
    const state = requiredString(p.StateValue, 'StateValue');
    if (!STATES.includes(state as State))
      throw validation(
        `Value '${state}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [OK, ALARM, INSUFFICIENT_DATA]`,
      );
    const reason = requiredString(p.StateReason, 'StateReason', true);
    const reasonData = optionalString(p.StateReasonData);
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw new AwsFault('InvalidFormat', 'StateReasonData is not valid JSON.', 400);
      }
    }
    const alarm = this.alarms.get(name);
    if (!alarm) throw new AwsFault('ResourceNotFound', `Alarm ${name} not found`, 404);
    const now = Date.now();
    const periodMs = alarm.period * this.timing.secondMs;
    alarm.manualUntil = (Math.floor(now / periodMs) + 1) * periodMs;
    this.transition(alarm, state as State, reason, reasonData);
    return undefined;
  }

  private deleteAlarms(p: Record<string, unknown>): undefined {
    const names = list(p.AlarmNames, 'AlarmNames').map(String);
    if (names.length === 0) throw missing('AlarmNames');
    const unknown = names.filter((n) => !this.alarms.has(n));
    if (unknown.length > 0) throw new AwsFault('ResourceNotFound', `Alarms not found: ${unknown.join(', ')}`, 404);
    for (const n of names) this.alarms.delete(n);
    return undefined;
  }

  private putMetricData(p: Record<string, unknown>, query: boolean): undefined {
    const namespace = requiredString(p.Namespace, 'Namespace');
    if (namespace.startsWith('AWS/'))
      throw new AwsFault('InvalidParameterValue', 'The value AWS/ for parameter Namespace is invalid.');
    const data = list(p.MetricData, 'MetricData');
    if (data.length === 0) throw missing('MetricData');
    if (data.length > 1000)
      throw validation(
        `Value at 'metricData' failed to satisfy constraint: Member must have length less than or equal to 1000`,
      );
    for (const [i, item] of data.entries()) {
      const d = item as Record<string, unknown>;
      const metricName = requiredString(d.MetricName, `MetricData.member.${i + 1}.MetricName`);
      const value = optionalNumber(d.Value, `MetricData.member.${i + 1}.Value`, query) ?? 0;
      this.metrics.record({ namespace, metricName, dimensions: dimensionsOf(d.Dimensions) }, value);
    }
    return undefined;
  }

  // ---- evaluation -------------------------------------------------------------------------------------------------

  private evaluateAll(): void {
    const now = Date.now();
    for (const alarm of this.alarms.values()) this.evaluate(alarm, now);
  }

  /** CloudWatch's M-out-of-N rule over the last N complete periods, with TreatMissingData for empty ones. */
  private evaluate(alarm: Alarm, now: number): void {
    if (alarm.manualUntil !== undefined) {
      if (now < alarm.manualUntil) return;
      delete alarm.manualUntil;
    }
    const periodMs = alarm.period * this.timing.secondMs;
    const end = Math.floor(now / periodMs) * periodMs;
    const values: (number | undefined)[] = [];
    for (let i = alarm.evaluationPeriods; i >= 1; i--)
      values.push(this.valueOf(alarm, end - i * periodMs, end - (i - 1) * periodMs));
    const present = values.filter((v): v is number => v !== undefined);
    const breaching = (v: number) => breaches(alarm.comparison, v, alarm.threshold);
    let breaches_ = present.filter(breaching).length;
    let fine = present.length - breaches_;
    const missingCount = values.length - present.length;
    if (alarm.treatMissing === 'breaching') breaches_ += missingCount;
    if (alarm.treatMissing === 'notBreaching') fine += missingCount;
    let next: State;
    if (breaches_ >= alarm.datapointsToAlarm) next = 'ALARM';
    else if (breaches_ + fine === 0) {
      if (alarm.treatMissing === 'ignore') return;
      next = 'INSUFFICIENT_DATA';
    } else next = 'OK';
    if (next === alarm.state) return;
    const shown = present.map((v) => Number(v.toFixed(3))).join(', ') || 'no datapoints';
    const verb = next === 'ALARM' ? 'was' : 'was not';
    this.transition(
      alarm,
      next,
      next === 'INSUFFICIENT_DATA'
        ? `Insufficient Data: ${alarm.evaluationPeriods} datapoint${alarm.evaluationPeriods === 1 ? '' : 's'} were unknown.`
        : `Threshold Crossed: ${present.length} datapoint${present.length === 1 ? '' : 's'} [${shown}] ${verb} ${comparisonWords(alarm.comparison)} the threshold (${alarm.threshold}).`,
    );
  }

  private valueOf(alarm: Alarm, start: number, end: number): number | undefined {
    if (alarm.single) return this.metrics.statistic(alarm.single.metric, alarm.single.statistic, start, end);
    const queries = alarm.queries!;
    const resolve = (id: string, seen: Set<string>): number | undefined => {
      const q = queries.find((o) => o.Id === id)!;
      if (q.MetricStat) return this.metrics.statistic(q.MetricStat.Metric, q.MetricStat.Stat, start, end);
      if (seen.has(id)) return undefined;
      return evaluateExpression(q.Expression!, (ref) => resolve(ref, new Set([...seen, id])));
    };
    return resolve(queries.find((q) => q.ReturnData)!.Id, new Set());
  }

  private transition(alarm: Alarm, state: State, reason: string, reasonData?: string): void {
    const changed = alarm.state !== state;
    alarm.state = state;
    alarm.reason = reason.slice(0, 1023);
    if (reasonData !== undefined) alarm.reasonData = reasonData;
    else delete alarm.reasonData;
    alarm.stateUpdated = new Date();
    if (changed) for (const listener of this.listeners) listener(alarm.name, state);
  }

  private view(a: Alarm) {
    return {
      AlarmName: a.name,
      AlarmArn: a.arn,
      ...(a.description !== undefined ? { AlarmDescription: a.description } : {}),
      AlarmConfigurationUpdatedTimestamp: a.configured,
      ActionsEnabled: a.actionsEnabled,
      OKActions: [],
      AlarmActions: [],
      InsufficientDataActions: [],
      StateValue: a.state,
      StateReason: a.reason,
      ...(a.reasonData !== undefined ? { StateReasonData: a.reasonData } : {}),
      StateUpdatedTimestamp: a.stateUpdated,
      ...(a.single
        ? {
            MetricName: a.single.metric.metricName,
            Namespace: a.single.metric.namespace,
            Statistic: a.single.statistic,
            Dimensions: a.single.metric.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
            Period: a.period,
          }
        : { Dimensions: [] }),
      EvaluationPeriods: a.evaluationPeriods,
      DatapointsToAlarm: a.datapointsToAlarm,
      Threshold: a.threshold,
      ComparisonOperator: a.comparison,
      TreatMissingData: a.treatMissing,
      ...(a.queries
        ? {
            Metrics: a.queries.map((q) => ({
              Id: q.Id,
              ...(q.MetricStat
                ? {
                    MetricStat: {
                      Metric: {
                        Namespace: q.MetricStat.Metric.namespace,
                        MetricName: q.MetricStat.Metric.metricName,
                        Dimensions: q.MetricStat.Metric.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
                      },
                      Period: q.MetricStat.Period,
                      Stat: q.MetricStat.Stat,
                    },
                  }
                : {}),
              ...(q.Expression ? { Expression: q.Expression } : {}),
              ...(q.Label ? { Label: q.Label } : {}),
              ReturnData: q.ReturnData,
            })),
          }
        : {}),
      StateTransitionedTimestamp: a.stateUpdated,
    };
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------------

function breaches(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

function comparisonWords(comparison: Comparison): string {
  return {
    GreaterThanOrEqualToThreshold: 'greater than or equal to',
    GreaterThanThreshold: 'greater than',
    LessThanThreshold: 'less than',
    LessThanOrEqualToThreshold: 'less than or equal to',
  }[comparison];
}

/** CloudWatch accepts a period of 10, 20 or 30 seconds (high resolution) or any multiple of 60. */
function validPeriod(period: number): boolean {
  return (
    Number.isInteger(period) && (period === 10 || period === 20 || period === 30 || (period > 0 && period % 60 === 0))
  );
}

/** The metric ids an expression names (lower-case first letter, as CloudWatch requires of ids). */
function referencedIds(expression: string): string[] {
  return [...expression.matchAll(/\b([a-z][A-Za-z0-9_]*)\b/g)].map((m) => m[1]!).filter((id) => id !== 'FILL');
}

/**
 * Metric math for one period: + - * / and parentheses over numbers and metric ids, and FILL(id, value) for missing
 * data (the usual way to turn "no 5xx reported" into 0). A division by zero or a missing operand makes the period's
 * value missing, which the alarm treats per TreatMissingData, as CloudWatch does.
 */
export function evaluateExpression(expression: string, value: (id: string) => number | undefined): number | undefined {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),]/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++];
  const primary = (): number | undefined => {
    const token = take();
    if (token === undefined) return undefined;
    if (token === '(') {
      const v = sum();
      take();
      return v;
    }
    if (token === '-') {
      const v = primary();
      return v === undefined ? undefined : -v;
    }
    if (/^\d/.test(token)) return Number(token);
    if (token === 'FILL' && peek() === '(') {
      take();
      const inner = sum();
      take(); // ,
      const fill = sum();
      take(); // )
      return inner ?? fill;
    }
    return value(token);
  };
  const product = (): number | undefined => {
    let left = primary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      const right = primary();
      if (left === undefined || right === undefined) left = undefined;
      else if (op === '*') left *= right;
      else left = right === 0 ? undefined : left / right;
    }
    return left;
  };
  const sum = (): number | undefined => {
    let left = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const right = product();
      left = left === undefined || right === undefined ? undefined : op === '+' ? left + right : left - right;
    }
    return left;
  };
  return sum();
}

function metricQuery(value: unknown, i: number, query: boolean): MetricQuery {
  const q = value as Record<string, unknown>;
  const id = requiredString(q.Id, `Metrics.member.${i + 1}.Id`);
  if (!/^[a-z][A-Za-z0-9_]*$/.test(id))
    throw new AwsFault(
      'ValidationError',
      `Invalid metrics list: the Id ${id} must start with a lowercase letter and contain only letters, numbers and underscores.`,
    );
  const stat = q.MetricStat as Record<string, unknown> | undefined;
  const expression = optionalString(q.Expression);
  if ((stat === undefined) === (expression === undefined))
    throw new AwsFault(
      'ValidationError',
      `Invalid metrics list: ${id} must have either a MetricStat or an Expression.`,
    );
  const returnData = bool(q.ReturnData, true);
  if (stat) {
    const metric = stat.Metric as Record<string, unknown>;
    const period = optionalInteger(stat.Period, 'MetricStat.Period', query);
    const statistic = requiredString(stat.Stat, 'MetricStat.Stat');
    if (period === undefined) throw missing('MetricStat.Period');
    if (!STATISTICS.includes(statistic as Statistic))
      throw new AwsFault(
        'InvalidParameterValue',
        `The statistic ${statistic} is not supported by the sandbox (one of ${STATISTICS.join(', ')}).`,
      );
    return {
      Id: id,
      MetricStat: {
        Metric: {
          namespace: requiredString(metric?.Namespace, 'MetricStat.Metric.Namespace'),
          metricName: requiredString(metric?.MetricName, 'MetricStat.Metric.MetricName'),
          dimensions: dimensionsOf(metric?.Dimensions),
        },
        Period: period,
        Stat: statistic as Statistic,
      },
      ReturnData: returnData,
      ...(optionalString(q.Label) ? { Label: optionalString(q.Label)! } : {}),
    };
  }
  return {
    Id: id,
    Expression: expression!,
    ReturnData: returnData,
    ...(optionalString(q.Label) ? { Label: optionalString(q.Label)! } : {}),
  };
}

function dimensionsOf(value: unknown): MetricDimension[] {
  const dims = list(value, 'Dimensions').map((d) => {
    const dim = d as Record<string, unknown>;
    return {
      Name: requiredString(dim.Name, 'Dimensions.member.Name'),
      Value: requiredString(dim.Value, 'Dimensions.member.Value'),
    };
  });
  if (dims.length > 30)
    throw validation(
      `Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30`,
    );
  return dims;
}

function tagsOf(value: unknown): { Key: string; Value: string }[] {
  return list(value, 'Tags').map((t) => {
    const tag = t as Record<string, unknown>;
    return { Key: requiredString(tag.Key, 'Tags.member.Key'), Value: String(tag.Value ?? '') };
  });
}

function list(value: unknown, name: string): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value)) throw validation(`${name} must be a list`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function requiredString(value: unknown, name: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) throw missing(name);
  return value;
}

/** awsQuery sends every number as text; JSON as a number. */
function optionalNumber(value: unknown, name: string, query: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = query && typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw validation(`Value for ${name} is not a number`);
  return n;
}

function optionalInteger(value: unknown, name: string, query: boolean): number | undefined {
  const n = optionalNumber(value, name, query);
  if (n !== undefined && !Number.isInteger(n)) throw validation(`Value for ${name} is not an integer`);
  return n;
}

function bool(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'true';
}

function missing(name: string): AwsFault {
  return new AwsFault('MissingParameter', `The parameter ${name} is required.`);
}

function invalidCombination(message: string): AwsFault {
  return new AwsFault('InvalidParameterCombination', message);
}

function validation(message: string): AwsFault {
  return new AwsFault('ValidationError', `1 validation error detected: ${message}`);
}

/** The JSON protocols send timestamps as epoch seconds. */
function epochDates(value: unknown): unknown {
  if (value instanceof Date) return epochSeconds(value);
  if (Array.isArray(value)) return value.map(epochDates);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, epochDates(v)]));
  return value;
}
