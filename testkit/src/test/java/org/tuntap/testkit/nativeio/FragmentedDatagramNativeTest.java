package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;
import static org.tuntap.testkit.nativeio.NativeDevices.PREFIX;

/**
 * A UDP datagram larger than the device's MTU, which the kernel fragments on its way into the
 * TUN device, reaches the application whole through {@link Ipv4ReassemblyHandler} (or
 * {@link Ipv6ReassemblyHandler}), and its echo reaches the kernel's socket whole: written as one
 * packet when the IP codecs have no MTU (the kernel takes it whole), or as fragments when they
 * fragment at the device's MTU (the kernel reassembles them).
 */
@Tag("netns")
class FragmentedDatagramNativeTest {
    private static final Inet6Address KERNEL6 = NativeDevices.address6("2001:db8:0:3::1");
    private static final Inet6Address APP6 = NativeDevices.address6("2001:db8:0:3::2");
    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void epollGroup() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aFourThousandByteDatagramFragmentedByTheKernelArrivesWholeAndIsEchoedWhole() throws Exception {
        DatagramEcho echo = new DatagramEcho();
        Ipv4ReassemblyHandler reassembly = new Ipv4ReassemblyHandler();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    p.addLast(new Ipv4Codec().setPassFragments(true), reassembly, new UdpCodec(), echo);
                })), "frag%d");
        try (DatagramSocket socket = new DatagramSocket(null)) {
            NativeDevices.connect(channel);
            assertEquals(1500, LinuxTun.interfaces().mtu(channel.localAddress().name()));
            socket.bind(new InetSocketAddress(KERNEL, 0));
            socket.setSoTimeout(5000);
            InetSocketAddress to = new InetSocketAddress(APP, 7);
            for (int size : new int[] {4000, 1473, 9000}) {
                byte[] payload = Pipelines.payload(size);
                socket.send(new DatagramPacket(payload, size, to));

                DatagramEcho.Seen seen = echo.next();
                assertNotNull(seen, "the pipeline saw no datagram of " + size + " bytes");
                assertArrayEquals(payload, seen.payload(), size + " bytes, whole, in the pipeline");

                byte[] buffer = new byte[size + 1];
                DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
                socket.receive(reply);
                assertEquals(size, reply.getLength(), "the echo of " + size + " bytes arrives whole");
                assertArrayEquals(payload, Arrays.copyOf(buffer, size));
            }
            assertEquals(0, channel.eventLoop().submit(() -> reassembly.dropCounters().total()).get(5, TimeUnit.SECONDS));
        } finally {
            channel.close().sync();
        }
    }

    @ParameterizedTest(name = "IPv{0}, outbound MTU {1}")
    @CsvSource({"6, 0", "6, 1500", "4, 1500"})
    void aFourThousandByteEchoLeavesWholeOrAsFragmentsAndArrivesWhole(int family, int outboundMtu) throws Exception {
        DatagramEcho echo = new DatagramEcho();
        Ipv4ReassemblyHandler reassembly4 = new Ipv4ReassemblyHandler();
        Ipv6ReassemblyHandler reassembly6 = new Ipv6ReassemblyHandler();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(
                        new Ipv6Codec().setPassFragments(true).setMtu(outboundMtu), reassembly6,
                        new Ipv4Codec().setPassFragments(true).setMtu(outboundMtu), reassembly4,
                        new UdpCodec(), echo))), "frag%d");
        try {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, KERNEL, PREFIX);
            interfaces.addIpv6Address(name, KERNEL6, 64);
            interfaces.setUp(name, true);
            assertEquals(1500, interfaces.mtu(name));
            InetAddress local = family == 6 ? KERNEL6 : KERNEL;
            InetSocketAddress to = new InetSocketAddress(family == 6 ? APP6 : APP, 7);
            try (DatagramSocket socket = NativeDevices.boundSocket(local)) {
                byte[] payload = Pipelines.payload(4000);
                long writtenBefore = channel.counters().packetsWritten();
                socket.send(new DatagramPacket(payload, payload.length, to));

                DatagramEcho.Seen seen = echo.next();
                assertNotNull(seen, "the pipeline saw no datagram");
                assertArrayEquals(payload, seen.payload(), "4000 bytes, whole, in the pipeline");

                byte[] buffer = new byte[payload.length + 1];
                DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
                socket.receive(reply);
                assertEquals(payload.length, reply.getLength(), "the echo arrives whole");
                assertArrayEquals(payload, Arrays.copyOf(buffer, payload.length));
                assertEquals(to, reply.getSocketAddress());
                // 4008 bytes of UDP: 1448 per IPv6 fragment (1500 - 40 - 8, a multiple of 8), 1480 per IPv4 one.
                // Read on the loop: it counts a write after the system call, which may wake us first.
                long written = channel.eventLoop().submit(() -> channel.counters().packetsWritten()).get(5, TimeUnit.SECONDS);
                assertEquals(outboundMtu == 0 ? 1 : 3, written - writtenBefore,
                        outboundMtu == 0 ? "one packet of 4048 bytes, which the kernel takes whole" : "three fragments");
            }
            long drops = channel.eventLoop().submit(() -> reassembly4.dropCounters().total() + reassembly6.dropCounters().total())
                    .get(5, TimeUnit.SECONDS);
            assertEquals(0, drops);
        } finally {
            channel.close().sync();
        }
    }
}
