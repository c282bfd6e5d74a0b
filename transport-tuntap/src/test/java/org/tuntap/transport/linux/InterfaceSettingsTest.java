package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.Inet4Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TAP;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/** MTU, IPv4 address and up/down set from Java, checked with what {@code ip -j} reports. */
@Tag("netns")
class InterfaceSettingsTest {
    private LinuxInterfaces interfaces;

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        interfaces = LinuxTun.interfaces();
    }

    @Test
    void mtuAddressAndUpAreWhatIpReports() throws Exception {
        try (TunFd tun = TunFd.attach("cfg%d", IFF_TUN | IFF_NO_PI)) {
            assertFalse(interfaces.isUp(tun.name));
            interfaces.setMtu(tun.name, 1400);
            interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByName("192.0.2.1"), 24);
            interfaces.setUp(tun.name, true);

            assertEquals(1400, interfaces.mtu(tun.name));
            assertTrue(interfaces.isUp(tun.name));
            String link = Commands.ip("-j", "link", "show", "dev", tun.name);
            assertTrue(link.contains("\"mtu\":1400"), link);
            assertTrue(link.matches("(?s).*\"flags\":\\[[^]]*\"UP\".*"), link);
            String addr = Commands.ip("-j", "-4", "addr", "show", "dev", tun.name);
            assertTrue(addr.contains("\"local\":\"192.0.2.1\",\"prefixlen\":24"), addr);
            String route = Commands.ip("-j", "route", "show", "dev", tun.name);
            assertTrue(route.contains("\"dst\":\"192.0.2.0/24\""), route);

            interfaces.setUp(tun.name, false);
            assertFalse(interfaces.isUp(tun.name));
            assertFalse(Commands.ip("-j", "link", "show", "dev", tun.name).matches("(?s).*\"flags\":\\[[^]]*\"UP\".*"));
        }
    }

    @Test
    void indexIsTheKernelsIfindex() throws Exception {
        try (TunFd tap = TunFd.attach("idx%d", IFF_TAP)) {
            String link = Commands.ip("-j", "link", "show", "dev", tap.name);
            assertTrue(link.startsWith("[{\"ifindex\":" + interfaces.index(tap.name) + ","), link);
            assertEquals(1, interfaces.index("lo"));
        }
    }

    @Test
    void otherPrefixLengthsBecomeTheRightNetmask() throws Exception {
        try (TunFd tun = TunFd.attach("pfx%d", IFF_TUN)) {
            interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByName("198.51.100.77"), 30);
            assertTrue(Commands.ip("-j", "-4", "addr", "show", "dev", tun.name)
                    .contains("\"local\":\"198.51.100.77\",\"prefixlen\":30"));
            interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByName("203.0.113.9"), 32);
            String addr = Commands.ip("-j", "-4", "addr", "show", "dev", tun.name);
            assertTrue(addr.contains("\"local\":\"203.0.113.9\",\"prefixlen\":32"), addr);
            assertFalse(addr.contains("198.51.100.77"), "the primary address is replaced: " + addr);
        }
    }

    @Test
    void unknownInterfaceAndBadMtuAreClearErrors() throws Exception {
        ErrnoException missing = assertThrows(ErrnoException.class, () -> interfaces.mtu("nosuch0"));
        assertEquals(Errno.ENODEV, missing.errno());
        assertTrue(missing.getMessage().contains("'nosuch0'"), missing.getMessage());
        try (TunFd tun = TunFd.attach("mtu%d", IFF_TUN)) {
            ErrnoException tooSmall = assertThrows(ErrnoException.class, () -> interfaces.setMtu(tun.name, 10));
            assertEquals(Errno.EINVAL, tooSmall.errno());
            assertEquals("ioctl(SIOCSIFMTU)", tooSmall.operation());
        }
        assertThrows(IllegalArgumentException.class,
                () -> interfaces.setIpv4Address("lo", (Inet4Address) InetAddress.getByName("192.0.2.1"), 33));
        assertThrows(IllegalArgumentException.class, () -> interfaces.mtu("tun%d"));
    }
}
