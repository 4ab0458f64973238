export { alertmanagerConfig, RECEIVERS, WEBHOOK_TOKEN_FILE, type AlertmanagerOptions } from './alertmanager.ts';
export { allPanels, dashboardJson, DASHBOARD_ROWS, DATASOURCE_UID, type DashboardRow, type Panel } from './dashboards.ts';
export { generate, generatedFiles, prometheusConfig, yamlText, type PrometheusConfigOptions } from './generate.ts';
export { breachExpr, duration, measureExpr, metricNamesIn, recordName, rowExpr, SERVICE_JOB } from './promql.ts';
export { counterScenarios, counterTest, type CounterEvent, type CounterScenario } from './counter-scenarios.ts';
export { expandTemplate, humanize, type PromtoolTest } from './promtool-series.ts';
export { ruleTestFile } from './rule-tests.ts';
export { allRules, dashboardRecordingRules, ruleGroups, runbookUrl, RUNBOOK_DOC, thresholdRecordingRules, type AlertingRule, type RecordingRule, type RuleGroup } from './rules.ts';
export { startMonitor, type Monitor, type MonitorOptions } from './monitor.ts';
