package org.tuntap.testkit.nativeio;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.testkit.KernelSegmentation;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.TunOffload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * The in-memory kernel's segmentation ({@link KernelSegmentation}) against super-packets the real
 * kernel makes: a kernel TCP client's data, read from a TUN channel with TSO as super-packets with
 * partial checksums, segments into packets whose checksums are all valid and whose payloads are
 * the client's bytes in order. So the model reads the partial sum as the kernel writes it.
 */
@Tag("netns")
class KernelSegmentationNativeTest {
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
    void theKernelsTsoSuperPacketsSegmentIntoValidPacketsOfTheClientsBytes() throws Exception {
        KernelTcpPeer peer = new KernelTcpPeer();
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, false)
                .option(TunChannelOption.VNET_HDR, true)
                .option(TunChannelOption.OFFLOADS, EnumSet.of(TunOffload.CSUM, TunOffload.TSO4))
                // No offloads for the coalescer: it only puts the empty header in front of the peer's ACKs.
                .handler(Pipelines.of(ch -> ch.pipeline().addLast(new CoalescingHandler(Set.of()), peer.reader()))),
                "seg%d");
        byte[] sent = new byte[40_000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 7 + i / 251);
        }
        try (Socket client = new Socket()) {
            NativeDevices.connect(channel);
            client.bind(new InetSocketAddress(KERNEL, 0));
            peer.accept(channel, client);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    client.getOutputStream().write(sent);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });

            ByteArrayOutputStream received = new ByteArrayOutputStream();
            int superPackets = 0;
            while (received.size() < sent.length) {
                byte[] read = peer.nextRead();
                byte[] ip = KernelTcpPeer.ipPacket(read);
                if (!peer.isFromClient(ip, null) || peer.acknowledge(ip) == 0) {
                    continue;
                }
                byte[] header = Arrays.copyOf(read, VirtioNetHeader.LENGTH);
                ByteBuf headerView = Unpooled.wrappedBuffer(header);
                if (VirtioNetHeader.isGso(headerView, 0)) {
                    superPackets++;
                }
                List<byte[]> segments = KernelSegmentation.segment(header, ip, false);
                for (byte[] segment : segments) {
                    received.write(checkedPayload(segment));
                }
                channel.writeAndFlush(Unpooled.wrappedBuffer(peer.segment(TcpHeader.ACK, new byte[0]))).sync();
            }
            writer.get(10, TimeUnit.SECONDS);
            assertTrue(superPackets > 0, "the kernel sent at least one TSO super-packet");
            assertArrayEquals(sent, received.toByteArray(), "the segments' payloads are the client's bytes");
        } finally {
            channel.close().sync();
        }
    }

    /** The payload of a segment whose IPv4 and TCP checksums verify. */
    private static byte[] checkedPayload(byte[] segment) {
        ByteBuf view = Unpooled.wrappedBuffer(segment);
        assertEquals(null, Ipv4Header.check(view, 0, segment.length, true), "IPv4 header");
        int ip = Ipv4Header.headerLength(view, 0);
        int transportLength = Ipv4Header.totalLength(view, 0) - ip;
        long pseudo = InternetChecksum.pseudoHeaderSum(Ipv4Header.source(view, 0), Ipv4Header.destination(view, 0),
                TcpHeader.PROTOCOL, transportLength);
        assertEquals(0, InternetChecksum.finish(InternetChecksum.add(pseudo, view, ip, transportLength)), "TCP checksum");
        return Arrays.copyOfRange(segment, ip + TcpHeader.headerLength(view, ip), ip + transportLength);
    }
}
