# whittle's real-program suite: ruby with digest, openssl, zlib, json, socket.
require 'digest'
require 'openssl'
require 'zlib'
require 'json'
require 'socket'
require 'stringio'

puts "ruby major #{RUBY_VERSION.split('.')[0]}"
puts "sha256 #{Digest::SHA256.hexdigest('whittle')}"
puts "hmac #{OpenSSL::HMAC.hexdigest('SHA1', 'key', 'whittle')}"
io = StringIO.new
gz = Zlib::GzipWriter.new(io)
gz.write('whittle ' * 100)
gz.close
puts "gunzip #{Zlib::GzipReader.new(StringIO.new(io.string)).read.length}"
puts "json #{JSON.generate(JSON.parse('{"b":[1,2,{"c":null}],"a":"x"}'))}"
server = TCPServer.new('127.0.0.1', 0)
t = Thread.new { c = server.accept; c.puts 'pong'; c.close }
s = TCPSocket.new('127.0.0.1', server.addr[1])
puts "socket #{s.gets.strip}"
t.join
