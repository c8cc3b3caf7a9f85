import test from 'ava';
import { clientAddress, trustedProxyList } from '../../app/api/src/http/middleware/client-address.ts';
import { loadConfig } from '../../app/api/src/core/config.ts';

const trusted = trustedProxyList(['172.16.0.0/12', '127.0.0.1', 'fd00::/8']);

test('without a trusted peer the TCP peer is the client, whatever X-Forwarded-For says', (t) => {
  t.is(clientAddress('203.0.113.9', '10.9.9.9', trusted), '203.0.113.9');
  t.is(clientAddress('::ffff:192.0.2.4', '10.9.9.9', trustedProxyList([])), '192.0.2.4', 'IPv4 on a dual-stack socket is shown as IPv4');
});

test('behind trusted proxies the first untrusted address from the right is the client', (t) => {
  t.is(clientAddress('172.18.0.1', '198.51.100.7', trusted), '198.51.100.7');
  t.is(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7, 172.20.0.3', trusted), '198.51.100.7', 'a client-supplied left part is not believed');
  t.is(clientAddress('::ffff:127.0.0.1', '2001:db8::5', trusted), '2001:db8::5');
  t.is(clientAddress('127.0.0.1', 'not-an-ip, 198.51.100.7', trusted), '198.51.100.7');
  t.is(clientAddress('127.0.0.1', 'garbage', trusted), '127.0.0.1', 'an unparsable hop stops the walk at the proxy');
  t.is(clientAddress('127.0.0.1', undefined, trusted), '127.0.0.1');
});

test('PRAXISKERN_TRUSTED_PROXIES is validated; the old PRAXISKERN_TRUST_PROXY is refused with the new name', (t) => {
  t.deepEqual(loadConfig({ PRAXISKERN_TRUSTED_PROXIES: '172.16.0.0/12, 127.0.0.1,fd00::/8' }).trustedProxies, ['172.16.0.0/12', '127.0.0.1', 'fd00::/8']);
  t.deepEqual(loadConfig({}).trustedProxies, [], 'default: no proxy is trusted');
  t.throws(() => loadConfig({ PRAXISKERN_TRUSTED_PROXIES: 'proxy.local' }), { message: /PRAXISKERN_TRUSTED_PROXIES entry "proxy.local"/ });
  t.throws(() => loadConfig({ PRAXISKERN_TRUST_PROXY: 'true' }), { message: /replaced by PRAXISKERN_TRUSTED_PROXIES/ });
});
