import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { clientSettings, type RequestOptions } from './clients';

export function cloudwatchClient(region: string, env: NodeJS.ProcessEnv = process.env): CloudWatchClient {
  return new CloudWatchClient(clientSettings(region, env));
}

/** Which alarms to watch: by name, and every alarm whose name starts with a prefix. */
export interface AlarmSelector {
  names: string[];
  prefixes: string[];
}

export interface AlarmState {
  name: string;
  /** OK | ALARM | INSUFFICIENT_DATA */
  state: string;
  reason: string;
  /** When the alarm last changed state. */
  updatedAt?: Date;
}

function stateOf(alarm: MetricAlarm): AlarmState {
  return {
    name: alarm.AlarmName ?? '',
    state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
    reason: alarm.StateReason ?? '',
    ...(alarm.StateUpdatedTimestamp ? { updatedAt: alarm.StateUpdatedTimestamp } : {}),
  };
}

/**
 * The metric alarms the selector names, each once, sorted by name: DescribeAlarms by name (100 a call, the API's
 * limit) and by each prefix (a prefix and names cannot share a call), every page.
 */
export async function describeAlarms(
  client: CloudWatchClient,
  selector: AlarmSelector,
  options: RequestOptions = {},
): Promise<AlarmState[]> {
  const found = new Map<string, AlarmState>();
  const all = async (input: { AlarmNames?: string[]; AlarmNamePrefix?: string }) => {
    let NextToken: string | undefined;
    do {
      const page = await client.send(
        new DescribeAlarmsCommand({ ...input, AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken }),
        options,
      );
      for (const alarm of page.MetricAlarms ?? []) found.set(alarm.AlarmName ?? '', stateOf(alarm));
      NextToken = page.NextToken;
    } while (NextToken);
  };
  for (let i = 0; i < selector.names.length; i += 100) await all({ AlarmNames: selector.names.slice(i, i + 100) });
  for (const prefix of selector.prefixes) await all({ AlarmNamePrefix: prefix });
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
