// Search as you type (issue 12, item 1): client-side ordering of a small matched set, ages,
// what is worth sending, the keyboard model of the result list, the global shortcut, and that a
// newer keystroke cancels the older request (AbortController) and drops its answer.
import test from 'ava';
import { ageOn, isSearchShortcut, LatestSearch, moveActive, orderByName, presentMatches, searchable } from '../../app/web/src/lib/patient-search.ts';

const p = (familyName: string, givenName: string, birthDate = '1980-01-01', id = `${familyName}-${givenName}-${birthDate}`) => ({ id, familyName, givenName, birthDate });

test('a complete matched set is ordered by name in the UI language; a partial one keeps the server order', (t) => {
  const items = [p('Müller', 'Zoe'), p('Mueller', 'Anna'), p('Meyer', 'Karl'), p('Muller', 'Ben'), p('Ähler', 'Eva'), p('Müller', 'Anna', '1990-01-01'), p('Müller', 'Anna', '1970-01-01')];
  const de = orderByName(items, 'de').map((x) => `${x.familyName} ${x.givenName} ${x.birthDate}`);
  t.deepEqual(de, [
    // DIN 5007-1: ä = a, ü = u (Müller and Muller are one family name, then by given name and birth date)
    'Ähler Eva 1980-01-01', 'Meyer Karl 1980-01-01', 'Mueller Anna 1980-01-01',
    'Müller Anna 1970-01-01', 'Müller Anna 1990-01-01', 'Muller Ben 1980-01-01', 'Müller Zoe 1980-01-01',
  ]);
  const all = presentMatches(items, items.length, 'de');
  t.true(all.byName);
  t.is(all.items[0].familyName, 'Ähler');
  const partial = presentMatches(items, 100, 'de');
  t.false(partial.byName);
  t.deepEqual(partial.items, items, 'server order (newest first) when not every match is here');
  t.not(partial.items, items, 'a copy');
});

test('age in full years, birthday counted on the day', (t) => {
  t.is(ageOn('1980-05-17', '2026-05-16'), 45);
  t.is(ageOn('1980-05-17', '2026-05-17'), 46);
  t.is(ageOn('2000-02-29', '2026-02-28'), 25);
  t.is(ageOn('2000-02-29', '2026-03-01'), 26);
});

test('what is worth sending: name parts of 3 letters, or anything with a digit', (t) => {
  t.false(searchable(''));
  t.false(searchable('Mü'));
  t.true(searchable('Mül'));
  t.false(searchable('Anna Mü'));
  t.true(searchable('P-12'));
  t.true(searchable('17.05.1980'));
});

test('arrow keys move the highlighted option and wrap; Home/End jump', (t) => {
  t.is(moveActive(-1, 0, 'ArrowDown'), -1);
  t.is(moveActive(-1, 3, 'ArrowDown'), 0);
  t.is(moveActive(2, 3, 'ArrowDown'), 0);
  t.is(moveActive(-1, 3, 'ArrowUp'), 2);
  t.is(moveActive(0, 3, 'ArrowUp'), 2);
  t.is(moveActive(1, 3, 'End'), 2);
  t.is(moveActive(1, 3, 'Home'), 0);
  t.is(moveActive(1, 3, 'x'), 1);
});

test('the shortcut: F2 anywhere, "/" only when not typing', (t) => {
  const k = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
  t.true(isSearchShortcut(k('/'), { tagName: 'BODY' }));
  t.true(isSearchShortcut(k('/'), { tagName: 'a' }));
  t.false(isSearchShortcut(k('/'), { tagName: 'INPUT' }));
  t.false(isSearchShortcut(k('/'), { tagName: 'textarea' }));
  t.false(isSearchShortcut(k('/'), { tagName: 'DIV', isContentEditable: true }));
  t.true(isSearchShortcut(k('F2'), { tagName: 'INPUT' }));
  t.false(isSearchShortcut(k('/', { ctrlKey: true }), { tagName: 'BODY' }));
  t.false(isSearchShortcut(k('a'), null));
});

test('a newer search aborts the older request and drops its answer; keystrokes within the delay make one request', async (t) => {
  const started: string[] = [];
  const aborted: string[] = [];
  const search = new LatestSearch<string>((text, signal) => {
    started.push(text);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(`answer:${text}`), 40);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.push(text);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }, 20);
  const a = search.request('Mül');
  const b = search.request('Müll'); // within the delay: 'Mül' never starts
  t.is(await a, undefined);
  await new Promise((r) => setTimeout(r, 30)); // 'Müll' has started
  const c = search.request('Mülle', 0);
  t.is(await b, undefined, 'the started request was aborted');
  t.is(await c, 'answer:Mülle');
  t.deepEqual(started, ['Müll', 'Mülle']);
  t.deepEqual(aborted, ['Müll']);
});
