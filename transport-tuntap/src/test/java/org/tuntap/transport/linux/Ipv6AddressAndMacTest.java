package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TAP;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/** IPv6 addresses and a TAP device's MAC set from Java (ioctls, no {@code ip}), checked with what {@code ip -j} reports. */
@Tag("netns")
class Ipv6AddressAndMacTest {
    /** Linux's errno for "no such address" (removing one the interface does not have, a multicast MAC). */
    private static final int EADDRNOTAVAIL = 99;

    private LinuxInterfaces interfaces;

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        interfaces = LinuxTun.interfaces();
    }

    private static Inet6Address v6(String text) throws Exception {
        return (Inet6Address) InetAddress.getByName(text);
    }

    private static String addresses(String name) throws Exception {
        return Commands.ip("-j", "-6", "addr", "show", "dev", name);
    }

    @Test
    void ipv6AddressesAreAddedAndRemovedAsIpReports() throws Exception {
        try (TunFd tun = TunFd.attach("six%d", IFF_TUN | IFF_NO_PI)) {
            interfaces.addIpv6Address(tun.name, v6("2001:db8::1"), 64);
            interfaces.addIpv6Address(tun.name, v6("2001:db8:1::1"), 128);
            interfaces.setUp(tun.name, true);
            String addr = addresses(tun.name);
            assertTrue(addr.contains("\"local\":\"2001:db8::1\",\"prefixlen\":64"), addr);
            assertTrue(addr.contains("\"local\":\"2001:db8:1::1\",\"prefixlen\":128"), "both kept: " + addr);
            String route = Commands.ip("-j", "-6", "route", "show", "dev", tun.name);
            assertTrue(route.contains("\"dst\":\"2001:db8::/64\""), route);

            ErrnoException twice = assertThrows(ErrnoException.class, () -> interfaces.addIpv6Address(tun.name, v6("2001:db8::1"), 64));
            assertEquals(Errno.EEXIST, twice.errno());
            assertEquals("ioctl(SIOCSIFADDR)", twice.operation());

            interfaces.removeIpv6Address(tun.name, v6("2001:db8::1"), 64);
            addr = addresses(tun.name);
            assertFalse(addr.contains("\"2001:db8::1\""), addr);
            assertTrue(addr.contains("\"local\":\"2001:db8:1::1\""), addr);

            ErrnoException gone = assertThrows(ErrnoException.class, () -> interfaces.removeIpv6Address(tun.name, v6("2001:db8::1"), 64));
            assertEquals(EADDRNOTAVAIL, gone.errno());
            assertEquals("ioctl(SIOCDIFADDR)", gone.operation());
        }
    }

    @Test
    void ipv6OnATapDeviceWhileDown() throws Exception {
        try (TunFd tap = TunFd.attach("sixtap%d", IFF_TAP | IFF_NO_PI)) {
            interfaces.addIpv6Address(tap.name, v6("2001:db8:2::5"), 48);
            assertTrue(addresses(tap.name).contains("\"local\":\"2001:db8:2::5\",\"prefixlen\":48"), addresses(tap.name));
            interfaces.removeIpv6Address(tap.name, v6("2001:db8:2::5"), 48);
            assertFalse(addresses(tap.name).contains("2001:db8:2::5"));
        }
    }

    @Test
    void badIpv6RequestsAreClearErrors() throws Exception {
        ErrnoException missing = assertThrows(ErrnoException.class, () -> interfaces.addIpv6Address("nosuch0", v6("2001:db8::1"), 64));
        assertEquals(Errno.ENODEV, missing.errno());
        assertTrue(missing.getMessage().contains("'nosuch0'"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> interfaces.addIpv6Address("lo", v6("2001:db8::1"), 129));
        assertThrows(IllegalArgumentException.class, () -> interfaces.removeIpv6Address("lo", v6("2001:db8::1"), -1));
        try (TunFd tun = TunFd.attach("small%d", IFF_TUN)) {
            interfaces.setMtu(tun.name, 1000); // below IPv6's minimum of 1280: the kernel turns IPv6 off on it
            ErrnoException off = assertThrows(ErrnoException.class, () -> interfaces.addIpv6Address(tun.name, v6("2001:db8::1"), 64));
            assertEquals("ioctl(SIOCSIFADDR)", off.operation());
            assertEquals(Errno.EINVAL, off.errno());
        }
    }

    @Test
    void tapMacIsSetAsIpReports() throws Exception {
        try (TunFd tap = TunFd.attach("mac%d", IFF_TAP | IFF_NO_PI)) {
            byte[] mac = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
            interfaces.setMacAddress(tap.name, mac);
            assertArrayEquals(mac, interfaces.macAddress(tap.name));
            String link = Commands.ip("-j", "link", "show", "dev", tap.name);
            assertTrue(link.contains("\"address\":\"02:00:5e:10:20:30\""), link);

            interfaces.setUp(tap.name, true); // a TAP device changes its MAC while up too
            byte[] other = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x31};
            interfaces.setMacAddress(tap.name, other);
            assertTrue(Commands.ip("-j", "link", "show", "dev", tap.name).contains("\"address\":\"02:00:5e:10:20:31\""));

            ErrnoException multicast = assertThrows(ErrnoException.class,
                    () -> interfaces.setMacAddress(tap.name, new byte[] {0x01, 0, 0x5e, 0, 0, 1}));
            assertEquals(EADDRNOTAVAIL, multicast.errno());
            assertEquals("ioctl(SIOCSIFHWADDR)", multicast.operation());
            assertThrows(IllegalArgumentException.class, () -> interfaces.setMacAddress(tap.name, new byte[5]));
        }
    }

    @Test
    void tunHasNoMac() throws Exception {
        try (TunFd tun = TunFd.attach("nomac%d", IFF_TUN)) {
            assertEquals(0, interfaces.macAddress(tun.name).length);
            ErrnoException refused = assertThrows(ErrnoException.class,
                    () -> interfaces.setMacAddress(tun.name, new byte[] {0x02, 0, 0, 0, 0, 1}));
            assertEquals(Errno.EOPNOTSUPP, refused.errno());
        }
    }
}
