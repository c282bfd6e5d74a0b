package org.tuntap.testkit.nativeio;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Native channels and devices for the end-to-end tests; documentation addresses only. */
public final class NativeDevices {
    /** The kernel's address on the device (the host side of the tunnel). */
    public static final Inet4Address KERNEL = address("198.51.100.1");
    /** The application's address: routed through the device, owned by the pipeline. */
    public static final Inet4Address APP = address("198.51.100.2");
    /** The prefix of the device's network. */
    public static final int PREFIX = 24;

    private NativeDevices() {
    }

    /** A bootstrap for native TunChannels on {@code group} in the given mode. */
    public static Bootstrap bootstrap(EventLoopGroup group, TunMode mode, boolean packetInfo) {
        return new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .option(TunChannelOption.MODE, mode)
                .option(TunChannelOption.PACKET_INFO, packetInfo);
    }

    /** Binds and waits: the channel on its device. */
    public static TunChannel bind(Bootstrap bootstrap, String name) throws InterruptedException {
        return (TunChannel) bootstrap.bind(new TunAddress(name)).sync().channel();
    }

    /**
     * Gives the device {@link #KERNEL}/24 and brings it up (IPv6 off, so that only the test's
     * packets cross it): the kernel then routes {@link #APP} through it.
     */
    public static void connect(TunChannel channel) throws Exception {
        String name = channel.localAddress().name();
        Ip.disableIpv6(name);
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(name, KERNEL, PREFIX);
        interfaces.setUp(name, true);
    }

    private static Inet4Address address(String text) {
        try {
            return (Inet4Address) InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
