package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.udp.UdpCodec;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * What the fused stack does with a {@link FusedWriteMerger} below it: every datagram is offered
 * to {@code join} first, only one that does not join is built (whole, in the merger's buffer, as
 * the stack would build it alone), and a joined one costs the IPv4 layer an identification all
 * the same. An outbound handler between the stack and the merger keeps the stack from it.
 */
class FusedWriteMergerTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("198.51.100.2", 7);
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.1", 40000);

    /** Joins every datagram once one is open; records what it was given. */
    private static final class RecordingMerger extends ChannelDuplexHandler implements FusedWriteMerger {
        final List<byte[]> opened = new ArrayList<>();
        final List<byte[]> joined = new ArrayList<>();
        final List<Integer> joinedPorts = new ArrayList<>();
        final List<Integer> linkHeaderLengths = new ArrayList<>();
        int offered;

        @Override
        public boolean join(FusedFields fields, ByteBuf payload, ChannelPromise promise) {
            offered++;
            if (opened.isEmpty()) {
                return false;
            }
            joined.add(ByteBufUtil.getBytes(payload));
            joinedPorts.add(fields.destinationPort());
            promise.trySuccess();
            return true;
        }

        @Override
        public ByteBuf startBuffer(int linkHeaderLength, int headerLength, int payloadLength) {
            linkHeaderLengths.add(linkHeaderLength);
            return Unpooled.buffer(3 + headerLength + payloadLength).writeZero(3); // a header of its own in front
        }

        @Override
        public void open(FusedFields fields, ByteBuf packet, ChannelPromise promise) {
            opened.add(ByteBufUtil.getBytes(packet, 3, packet.writerIndex() - 3));
            packet.release();
            promise.trySuccess();
        }
    }

    private static DatagramPacket datagram(int seed) {
        byte[] payload = new byte[100];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (seed + i);
        }
        return new DatagramPacket(Unpooled.wrappedBuffer(payload), PEER, LOCAL);
    }

    /** The packets the layers write with nothing below them: the reference. */
    private static List<byte[]> unmerged(int count) {
        EmbeddedChannel channel = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec());
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            channel.writeOutbound(datagram(i));
            ByteBuf packet = channel.readOutbound();
            packets.add(ByteBufUtil.getBytes(packet));
            packet.release();
        }
        assertFalse(channel.finish());
        return packets;
    }

    @Test
    void theFirstDatagramIsBuiltInTheMergersBufferAndTheRestOnlyJoin() {
        RecordingMerger merger = new RecordingMerger();
        EmbeddedChannel channel = new EmbeddedChannel(merger, new Ipv4Codec(), new UdpCodec());
        for (int i = 0; i < 3; i++) {
            channel.writeOutbound(datagram(i));
        }
        assertEquals(3, merger.offered);
        assertEquals(1, merger.opened.size());
        assertEquals(List.of(0), merger.linkHeaderLengths, "an IP packet: nothing in front of its IP header");
        List<byte[]> reference = unmerged(4);
        assertArrayEquals(reference.get(0), merger.opened.get(0), "built as the stack builds it alone");
        assertEquals(2, merger.joined.size());
        assertArrayEquals(ByteBufUtil.getBytes(datagram(1).content()), merger.joined.get(0), "the payload alone");
        assertEquals(List.of(PEER.getPort(), PEER.getPort()), merger.joinedPorts);
        assertEquals((Object) null, channel.readOutbound(), "nothing written past the merger");

        // The joined two took identifications 1 and 2: with the merger gone, the next packet
        // built has 3, as the fourth unmerged one.
        channel.pipeline().remove(merger);
        channel.writeOutbound(datagram(3));
        ByteBuf fourth = channel.readOutbound();
        assertArrayEquals(reference.get(3), ByteBufUtil.getBytes(fourth));
        fourth.release();
        assertFalse(channel.finish());
    }

    @Test
    void anOutboundHandlerBetweenKeepsTheStackFromTheMerger() {
        RecordingMerger merger = new RecordingMerger();
        EmbeddedChannel channel = new EmbeddedChannel(merger, new ChannelOutboundHandlerAdapter(), new Ipv4Codec(),
                new UdpCodec());
        channel.writeOutbound(datagram(0));
        channel.writeOutbound(datagram(1));
        assertEquals(0, merger.offered);
        assertEquals(2, channel.outboundMessages().size());
        channel.outboundMessages().forEach(ReferenceCountUtil::release);
        channel.outboundMessages().clear();
        assertFalse(channel.finish());
    }
}
