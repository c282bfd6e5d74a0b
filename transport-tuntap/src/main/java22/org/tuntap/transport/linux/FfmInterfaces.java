package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * {@link LinuxInterfaces} through the classic {@code SIOC*} ioctls on an {@code AF_INET}
 * datagram socket (one per call: settings are rare, and a shared socket would need closing).
 */
final class FfmInterfaces implements LinuxInterfaces {
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCSIFADDR = 0x8916;
    private static final long SIOCSIFNETMASK = 0x891c;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final long SIOCGIFINDEX = 0x8933;
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

    /** Runs one ioctl on a fresh AF_INET socket; returns the request, with the kernel's answer. */
    private static byte[] call(long request, String requestName, byte[] ifreq) throws ErrnoException {
        int socket = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (socket < 0) {
            throw new ErrnoException("socket(AF_INET, SOCK_DGRAM)", LibC.errno());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment argument = arena.allocate(ifreq.length);
            MemorySegment.copy(ifreq, 0, argument, JAVA_BYTE, 0, ifreq.length);
            if (LibC.ioctl(socket, request, argument) < 0) {
                throw NativeErrors.ioctl(requestName, LibC.errno(), ifreq);
            }
            MemorySegment.copy(argument, JAVA_BYTE, 0, ifreq, 0, ifreq.length);
            return ifreq;
        } finally {
            LibC.close(socket);
        }
    }

    @Override
    public String toString() {
        return "LinuxInterfaces(SIOC* ioctls via FFM)";
    }

}
