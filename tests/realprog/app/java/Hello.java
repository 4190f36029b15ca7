import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.CRC32;

/** whittle's real-program suite: prints, reads a resource from its jar, hashes. */
public class Hello {
	public static void main(String[] args) throws Exception {
		System.out.println("hello from java " + Runtime.version().feature());
		try (BufferedReader r = new BufferedReader(new InputStreamReader(
				Hello.class.getResourceAsStream("/greeting.txt"), StandardCharsets.UTF_8))) {
			System.out.println("resource: " + r.readLine());
		}
		MessageDigest md = MessageDigest.getInstance("SHA-256");
		System.out.println("sha256: " + HexFormat.of().formatHex(md.digest("whittle".getBytes(StandardCharsets.UTF_8))));
		CRC32 crc = new CRC32();
		crc.update("whittle".getBytes(StandardCharsets.UTF_8));
		System.out.println("crc32: " + Long.toHexString(crc.getValue()));
		System.out.println("upper: " + "straße".toUpperCase(java.util.Locale.ROOT));
	}
}
