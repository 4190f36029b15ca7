// whittle's real-program suite: node with crypto, zlib, JSON, net, fs.
'use strict';
const crypto = require('crypto');
const zlib = require('zlib');
const net = require('net');
const fs = require('fs');
const os = require('os');

console.log('node major', process.versions.node.split('.')[0]);
console.log('sha256', crypto.createHash('sha256').update('whittle').digest('hex'));
console.log('hmac', crypto.createHmac('sha1', 'key').update('whittle').digest('hex'));
const packed = zlib.gzipSync(Buffer.from('whittle '.repeat(100)));
console.log('gunzip', zlib.gunzipSync(packed).toString().length);
console.log('json', JSON.stringify(JSON.parse('{"b":[1,2,{"c":null}],"a":"x"}')));
console.log('os', os.EOL === '\n');
fs.writeFileSync('/tmp/node-test.txt', 'written\n');
console.log('fs', fs.readFileSync('/tmp/node-test.txt', 'utf8').trim());
const server = net.createServer((s) => { s.end('pong\n'); });
server.listen(0, '127.0.0.1', () => {
	const c = net.connect(server.address().port, '127.0.0.1');
	let got = '';
	c.on('data', (d) => { got += d; });
	c.on('end', () => { console.log('socket', got.trim()); server.close(); });
});
