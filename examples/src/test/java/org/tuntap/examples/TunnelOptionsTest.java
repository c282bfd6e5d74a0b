package org.tuntap.examples;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tunnel's command line: what it accepts, and one line naming the option for what it does not. */
class TunnelOptionsTest {

    @Test
    void parsesBothFamiliesAndDerivesTheDatagramSize() {
        TunnelOptions v4 = TunnelOptions.parse("--device", "vt", "--listen", "192.0.2.1:51820", "--peer", "192.0.2.2:51821");
        assertEquals("vt", v4.device);
        assertEquals(new InetSocketAddress("192.0.2.1", 51820), v4.listen);
        assertEquals(new InetSocketAddress("192.0.2.2", 51821), v4.peer);
        assertFalse(v4.offload);
        assertEquals(1500 - 20 - 8, v4.datagramBytes());

        TunnelOptions v6 = TunnelOptions.parse("--device", "vt", "--listen", "[2001:db8::1]:1", "--peer", "[2001:db8::2]:2",
                "--offload", "--link-mtu", "9000");
        assertEquals(new InetSocketAddress("2001:db8::2", 2), v6.peer);
        assertTrue(v6.offload);
        assertEquals(9000 - 40 - 8, v6.datagramBytes());
    }

    @Test
    void badOptionsAreOneLineNamingTheOption() {
        assertRefused("--device, --listen and --peer are required", "--device", "vt", "--listen", "192.0.2.1:1");
        assertRefused("--peer: not an IP address literal: localhost", // never looked up in DNS
                "--device", "vt", "--listen", "192.0.2.1:1", "--peer", "localhost:1");
        assertRefused("--listen: a number from 1 to 65535 expected: 0", "--listen", "192.0.2.1:0");
        assertRefused("--listen: IP:PORT expected: 192.0.2.1", "--listen", "192.0.2.1");
        assertRefused("--link-mtu: a number from 576 to 65535 expected: 575", "--link-mtu", "575");
        assertRefused("--device: a name of 1 to 15 bytes without '/': a/b", "--device", "a/b");
        assertRefused("--device: a name of 1 to 15 bytes without '/': sixteen-bytes-16", "--device", "sixteen-bytes-16");
        assertRefused("--listen and --peer must be of one family",
                "--device", "vt", "--listen", "192.0.2.1:1", "--peer", "[2001:db8::2]:2");
        assertRefused("--peer needs a value", "--peer");
        assertRefused("unknown option: --help", "--help");
    }

    private static void assertRefused(String message, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TunnelOptions.parse(args));
        assertEquals(message, e.getMessage());
    }
}
