package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The TUN-specific ioctls on an open {@code /dev/net/tun} fd, in Java terms. Works on any
 * {@link TunIoSystem}: the native one from {@link LinuxTun#ioSystem()}, or an in-memory one.
 */
public final class TunFdControl {

    private TunFdControl() {
    }

    /**
     * The {@code TUNSETIFF} flags this kernel supports ({@code TUNGETFEATURES}), such as
     * {@link TunIoctl#IFF_TUN} | {@link TunIoctl#IFF_NO_PI} | {@link TunIoctl#IFF_MULTI_QUEUE}.
     * Works on a fd not yet attached to a device.
     */
    public static int features(TunIoSystem io, int fd) throws ErrnoException {
        byte[] features = new byte[Integer.BYTES];
        io.ioctl(fd, TunIoctl.TUNGETFEATURES, features);
        return ByteBuffer.wrap(features).order(ByteOrder.nativeOrder()).getInt();
    }

    /** The name of the device the fd is attached to ({@code TUNGETIFF}). */
    public static String name(TunIoSystem io, int fd) throws ErrnoException {
        byte[] ifreq = new byte[Ifreq.SIZE];
        io.ioctl(fd, TunIoctl.TUNGETIFF, ifreq);
        return Ifreq.name(ifreq);
    }

    /**
     * The device's flags as {@code TUNGETIFF} reports them: mode, {@code IFF_MULTI_QUEUE},
     * {@code IFF_VNET_HDR}, {@code IFF_PERSIST} (0x0800)... Beware bit 0x1000: in this answer it
     * is {@code IFF_NOFILTER} ("no socket filter attached"), not {@code IFF_NO_PI}, so whether the
     * device carries packet information cannot be read back here.
     */
    public static int flags(TunIoSystem io, int fd) throws ErrnoException {
        byte[] ifreq = new byte[Ifreq.SIZE];
        io.ioctl(fd, TunIoctl.TUNGETIFF, ifreq);
        return Ifreq.flags(ifreq);
    }

    /** Keeps the device after its last fd closes, or not ({@code TUNSETPERSIST}). */
    public static void setPersistent(TunIoSystem io, int fd, boolean persistent) throws ErrnoException {
        io.ioctl(fd, TunIoctl.TUNSETPERSIST, persistent ? 1 : 0);
    }

    /** Lets user {@code uid} attach to the device without CAP_NET_ADMIN ({@code TUNSETOWNER}). */
    public static void setOwner(TunIoSystem io, int fd, int uid) throws ErrnoException {
        io.ioctl(fd, TunIoctl.TUNSETOWNER, uid & 0xFFFFFFFFL);
    }

    /** Lets group {@code gid} attach to the device without CAP_NET_ADMIN ({@code TUNSETGROUP}). */
    public static void setGroup(TunIoSystem io, int fd, int gid) throws ErrnoException {
        io.ioctl(fd, TunIoctl.TUNSETGROUP, gid & 0xFFFFFFFFL);
    }
}
