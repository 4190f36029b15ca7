# whittle's real-program suite: perl with Digest::SHA, IO::Compress::Gzip,
# JSON::PP, IO::Socket::INET, POSIX.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex hmac_sha1_hex);
use IO::Compress::Gzip qw(gzip $GzipError);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP;
use IO::Socket::INET;
use POSIX qw(floor);

print "perl ok ", ($] >= 5.036 ? "5.36+" : "old"), "\n";
print "sha256 ", sha256_hex("whittle"), "\n";
print "hmac ", hmac_sha1_hex("whittle", "key"), "\n";
my $in = "whittle " x 100;
my ($z, $out);
gzip(\$in => \$z) or die $GzipError;
gunzip(\$z => \$out) or die $GunzipError;
print "gunzip ", length($out), "\n";
my $json = JSON::PP->new->canonical;
print "json ", $json->encode($json->decode('{"b":[1,2,{"c":null}],"a":"x"}')), "\n";
print "floor ", floor(7.9), "\n";
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, Proto => 'tcp') or die "listen: $!";
my $port = $srv->sockport;
if (my $pid = fork) {
	my $c = $srv->accept;
	print $c "pong\n";
	close $c;
	waitpid $pid, 0;
} else {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die "connect: $!";
	my $l = <$s>;
	print "socket $l";
	exit 0;
}
