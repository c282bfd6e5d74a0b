package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * {@link LinuxInterfaces} through the classic {@code SIOC*} ioctls on an {@code AF_INET}
 * datagram socket (one per call: settings are rare, and a shared socket would need closing);
 * IPv6 addresses through {@code SIOCSIFADDR}/{@code SIOCDIFADDR} with a {@code struct in6_ifreq}
 * on an {@code AF_INET6} socket, which is how the IPv6 stack takes them (net/ipv6/addrconf.c).
 */
final class FfmInterfaces implements LinuxInterfaces {
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCSIFADDR = 0x8916;
    private static final long SIOCSIFNETMASK = 0x891c;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final long SIOCDIFADDR = 0x8936;
    private static final long SIOCGIFHWADDR = 0x8927;
    private static final long SIOCSIFHWADDR = 0x8924;
    private static final int AF_INET6 = 10;
    private static final int ARPHRD_ETHER = 1;
    private static final int MAC_LENGTH = 6;
    /** {@code struct in6_ifreq}: in6_addr (16), prefix length (u32), ifindex (int). */
    private static final int IN6_IFREQ_SIZE = 24;
    private static final int IFF_UP = 0x1;
    /** The ifreq union (flags, mtu, index, sockaddr) starts right after the name. */
    private static final int UNION_OFFSET = Ifreq.NAME_SIZE;

    FfmInterfaces() {
    }

    @Override
    public int index(String name) throws ErrnoException {
        return readInt(call(SIOCGIFINDEX, "SIOCGIFINDEX", ifreq(name)));
    }

    @Override
    public int mtu(String name) throws ErrnoException {
        return readInt(call(SIOCGIFMTU, "SIOCGIFMTU", ifreq(name)));
    }

    @Override
    public void setMtu(String name, int mtu) throws ErrnoException {
        byte[] request = ifreq(name);
        union(request).putInt(mtu);
        call(SIOCSIFMTU, "SIOCSIFMTU", request);
    }

    @Override
    public void setIpv4Address(String name, Inet4Address address, int prefixLength) throws ErrnoException {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("IPv4 prefix length must be 0 to 32: " + prefixLength);
        }
        call(SIOCSIFADDR, "SIOCSIFADDR", sockaddrRequest(name, address.getAddress()));
        int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        byte[] maskBytes = ByteBuffer.allocate(4).putInt(mask).array();
        call(SIOCSIFNETMASK, "SIOCSIFNETMASK", sockaddrRequest(name, maskBytes));
    }

    @Override
    public void addIpv6Address(String name, Inet6Address address, int prefixLength) throws ErrnoException {
        callIpv6(SIOCSIFADDR, "SIOCSIFADDR", name, address, prefixLength);
    }

    @Override
    public void removeIpv6Address(String name, Inet6Address address, int prefixLength) throws ErrnoException {
        callIpv6(SIOCDIFADDR, "SIOCDIFADDR", name, address, prefixLength);
    }

    @Override
    public byte[] macAddress(String name) throws ErrnoException {
        ByteBuffer hwaddr = union(call(SIOCGIFHWADDR, "SIOCGIFHWADDR", ifreq(name)));
        int family = hwaddr.getShort() & 0xFFFF;
        byte[] mac = new byte[family == ARPHRD_ETHER ? MAC_LENGTH : 0];
        hwaddr.get(mac);
        return mac;
    }

    @Override
    public void setMacAddress(String name, byte[] mac) throws ErrnoException {
        if (mac.length != MAC_LENGTH) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        byte[] request = ifreq(name);
        ByteBuffer hwaddr = union(request);
        hwaddr.putShort((short) ARPHRD_ETHER); // sa_family: the device type it must match
        hwaddr.put(mac);                         // sa_data
        call(SIOCSIFHWADDR, "SIOCSIFHWADDR", request);
    }

    @Override
    public boolean isUp(String name) throws ErrnoException {
        return (flags(name) & IFF_UP) != 0;
    }

    @Override
    public void setUp(String name, boolean up) throws ErrnoException {
        int flags = flags(name);
        byte[] request = ifreq(name);
        union(request).putShort((short) (up ? flags | IFF_UP : flags & ~IFF_UP));
        call(SIOCSIFFLAGS, "SIOCSIFFLAGS", request);
    }

    private int flags(String name) throws ErrnoException {
        return union(call(SIOCGIFFLAGS, "SIOCGIFFLAGS", ifreq(name))).getShort() & 0xFFFF;
    }

    private static byte[] ifreq(String name) {
        if (name.isEmpty() || name.contains("%")) {
            throw new IllegalArgumentException("an interface name is needed, not a template: '" + name + "'");
        }
        return Ifreq.encode(name, 0);
    }

    /** An ifreq whose union is a {@code struct sockaddr_in} with {@code address} (network order). */
    private static byte[] sockaddrRequest(String name, byte[] address) {
        byte[] request = ifreq(name);
        ByteBuffer sockaddr = union(request);
        sockaddr.putShort((short) LibC.AF_INET); // sin_family, host order
        sockaddr.putShort((short) 0);            // sin_port
        sockaddr.put(address);                    // sin_addr, network order
        return request;
    }

    private static ByteBuffer union(byte[] request) {
        return ByteBuffer.wrap(request, UNION_OFFSET, request.length - UNION_OFFSET).slice()
                .order(ByteOrder.nativeOrder());
    }

    private static int readInt(byte[] request) {
        return union(request).getInt();
    }

    /** An IPv6 address ioctl: a {@code struct in6_ifreq} naming the interface by index. */
    private static void callIpv6(long request, String requestName, String name, Inet6Address address, int prefixLength)
            throws ErrnoException {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("IPv6 prefix length must be 0 to 128: " + prefixLength);
        }
        byte[] nameRequest = ifreq(name);
        int index = readInt(call(SIOCGIFINDEX, "SIOCGIFINDEX", nameRequest));
        byte[] in6Ifreq = new byte[IN6_IFREQ_SIZE];
        ByteBuffer fields = ByteBuffer.wrap(in6Ifreq).order(ByteOrder.nativeOrder());
        fields.put(address.getAddress()); // ifr6_addr, network order
        fields.putInt(prefixLength);       // ifr6_prefixlen
        fields.putInt(index);              // ifr6_ifindex
        call(AF_INET6, request, requestName, in6Ifreq, nameRequest);
    }

    /** Runs one ioctl on a fresh AF_INET socket; returns the request, with the kernel's answer. */
    private static byte[] call(long request, String requestName, byte[] ifreq) throws ErrnoException {
        return call(LibC.AF_INET, request, requestName, ifreq, ifreq);
    }

    /**
     * Runs one ioctl on a fresh socket of {@code family} with {@code argument}; returns it, with
     * the kernel's answer. Errors name the interface of {@code nameIfreq}.
     */
    private static byte[] call(int family, long request, String requestName, byte[] argument, byte[] nameIfreq)
            throws ErrnoException {
        int socket = LibC.socket(family, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (socket < 0) {
            throw new ErrnoException(family == AF_INET6 ? "socket(AF_INET6, SOCK_DGRAM)" : "socket(AF_INET, SOCK_DGRAM)",
                    LibC.errno());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(argument.length);
            MemorySegment.copy(argument, 0, memory, JAVA_BYTE, 0, argument.length);
            if (LibC.ioctl(socket, request, memory) < 0) {
                throw NativeErrors.ioctl(requestName, LibC.errno(), nameIfreq);
            }
            MemorySegment.copy(memory, JAVA_BYTE, 0, argument, 0, argument.length);
            return argument;
        } finally {
            LibC.close(socket);
        }
    }

    @Override
    public String toString() {
        return "LinuxInterfaces(SIOC* ioctls via FFM)";
    }

}
