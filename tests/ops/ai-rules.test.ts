// The AI alert rules (ops/prometheus/rules/ai.rules.yml): promtool check and unit
// tests, every alert documented in the file's header, with for/severity/summary/description and a
// runbook, each with a firing and a quiet case; a broken threshold makes the unit test fail.
import test from 'ava';
import { alertRulesTests } from '../helpers/alert-rules.ts';

alertRulesTests(test, {
  area: 'ai',
  label: 'AI',
  alerts: ['AiLeakCheckBlocked', 'AiRequestsFailing', 'AiUnavailable'],
  mutations: [['expr: vector(0.5)', 'expr: vector(0.9)', 'AiRequestsFailing'], ['> 0\n        for: 10m', '> 1\n        for: 10m', 'AiUnavailable'], ['> 0\n        for: 1m', '> 1\n        for: 1m', 'AiLeakCheckBlocked']],
  tmpPrefix: 'pk-ai-rules-',
});
