package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * A UDP datagram larger than the device's MTU, which the kernel fragments on its way into the
 * TUN device, reaches the application whole through {@link Ipv4ReassemblyHandler}, and its echo
 * (one packet, written whole) reaches the kernel's socket whole.
 */
@Tag("netns")
class FragmentedDatagramNativeTest {
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
}
