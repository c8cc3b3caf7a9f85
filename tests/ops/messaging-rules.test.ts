// The messaging alert rules (ops/prometheus/rules/messaging.rules.yml): promtool check and unit
// tests, every alert documented in the file's header, with for/severity/summary/description and a
// runbook, each with a firing and a quiet case; a broken threshold makes the unit test fail.
import test from 'ava';
import { alertRulesTests } from '../helpers/alert-rules.ts';

alertRulesTests(test, {
  area: 'messaging',
  label: 'messaging',
  alerts: ['MessagesStuck', 'ProviderUnavailable'],
  mutations: [['expr: vector(900)', 'expr: vector(3600)', 'MessagesStuck'], ['> 0\n        for: 10m', '> 1\n        for: 10m', 'ProviderUnavailable']],
  tmpPrefix: 'pk-msg-rules-',
});
