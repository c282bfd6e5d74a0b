package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CoalescingHandler} against any bytes (byte-exactness through the kernel's segmentation is
 * tested in the testkit, whose in-memory kernel segments super-packets): nothing thrown, nothing
 * leaked, every write completed, what is not merged passed on unchanged behind the empty header.
 */
class CoalescingHandlerRobustnessTest {
    private static final InetSocketAddress FROM = new InetSocketAddress("192.0.2.1", 5000);
    private static final InetSocketAddress TO = new InetSocketAddress("198.51.100.2", 7);

    @Test
    void anyBytesAreMergedOrPassedOnNeverThrownNorLeaked() {
        Random random = new Random(12);
        EmbeddedChannel channel = new EmbeddedChannel(new CoalescingHandler(EnumSet.allOf(GsoOffload.class)));
        int merges = 0;
        for (int round = 0; round < 300; round++) {
            List<byte[]> written = new ArrayList<>();
            List<ChannelFuture> futures = new ArrayList<>();
            int count = 1 + random.nextInt(20);
            for (int i = 0; i < count; i++) {
                byte[] packet = packet(random);
                written.add(packet);
                futures.add(channel.write(TestPackets.tracked(packet)));
            }
            channel.flush();
            int out = 0;
            ByteBuf sent;
            while ((sent = channel.readOutbound()) != null) {
                try {
                    out++;
                    assertTrue(sent.readableBytes() > VirtioNetHeader.LENGTH);
                    if (!VirtioNetHeader.isGso(sent, sent.readerIndex())) {
                        byte[] body = ByteBufUtil.getBytes(sent, sent.readerIndex() + VirtioNetHeader.LENGTH,
                                sent.readableBytes() - VirtioNetHeader.LENGTH);
                        assertTrue(written.stream().anyMatch(p -> java.util.Arrays.equals(p, body)),
                                "an unmerged packet is one that was written, unchanged");
                        assertEquals(0, VirtioNetHeader.flags(sent, sent.readerIndex()));
                    }
                } finally {
                    sent.release();
                }
            }
            assertTrue(out >= 1 && out <= count);
            merges += count - out;
            for (ChannelFuture future : futures) {
                assertTrue(future.isSuccess());
            }
        }
        assertTrue(merges > 100, "candidates were merged: " + merges);
        assertFalse(channel.finish());
    }

    @Test
    void voidPromisesAndAnUnmergedPacketKeepTheirBytes() {
        EmbeddedChannel channel = new EmbeddedChannel(new CoalescingHandler(EnumSet.allOf(GsoOffload.class)));
        byte[] a = udp(1000, 1);
        byte[] b = udp(1000, 2);
        channel.write(TestPackets.tracked(a), channel.voidPromise());
        channel.write(TestPackets.tracked(b), channel.voidPromise());
        channel.flush();
        ByteBuf merged = channel.readOutbound();
        try {
            assertEquals(VirtioNetHeader.GSO_UDP_L4, VirtioNetHeader.gsoType(merged, merged.readerIndex()));
            assertEquals(1000, VirtioNetHeader.gsoSize(merged, merged.readerIndex()));
            assertEquals(VirtioNetHeader.LENGTH + 28 + 2000, merged.readableBytes());
        } finally {
            merged.release();
        }
        byte[] alone = udp(3000, 3);
        channel.writeAndFlush(TestPackets.tracked(alone));
        ByteBuf sent = channel.readOutbound();
        try {
            byte[] expected = new byte[VirtioNetHeader.LENGTH + alone.length];
            System.arraycopy(alone, 0, expected, VirtioNetHeader.LENGTH, alone.length);
            assertArrayEquals(expected, ByteBufUtil.getBytes(sent));
        } finally {
            sent.release();
        }
        assertFalse(channel.finish());
    }

    private static byte[] packet(Random random) {
        // Mostly full-size datagrams, so runs of them merge.
        byte[] packet = udp(random.nextInt(3) > 0 ? 1000 : 1 + random.nextInt(1400), random.nextInt());
        switch (random.nextInt(4)) {
            case 0:
                return packet; // a candidate
            case 1:
                packet[random.nextInt(packet.length)] ^= (byte) (1 + random.nextInt(255));
                return packet;
            case 2:
                return java.util.Arrays.copyOf(packet, 1 + random.nextInt(packet.length));
            default:
                byte[] noise = new byte[1 + random.nextInt(100)];
                random.nextBytes(noise);
                noise[0] = (byte) (random.nextBoolean() ? 0x45 : 0x60);
                return noise;
        }
    }

    private static int nextIdentification;

    /** A UDP packet of the one flow, identifications counting up as an IP layer's do. */
    private static byte[] udp(int length, int seed) {
        byte[] payload = new byte[length];
        new Random(seed).nextBytes(payload);
        ByteBuf content = PooledByteBufAllocator.DEFAULT.heapBuffer().writeBytes(payload);
        ByteBuf packet = PooledByteBufAllocator.DEFAULT.heapBuffer();
        Ipv4Repr ip = new Ipv4Repr().source((Inet4Address) FROM.getAddress()).destination((Inet4Address) TO.getAddress())
                .identification(nextIdentification++ & 0xFFFF);
        UdpPackets.write(packet, ip, FROM.getPort(), TO.getPort(), content, true);
        try {
            return ByteBufUtil.getBytes(packet);
        } finally {
            packet.release();
            content.release();
        }
    }
}
