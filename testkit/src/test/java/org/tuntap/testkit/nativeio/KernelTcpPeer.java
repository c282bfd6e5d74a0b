package org.tuntap.testkit.nativeio;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.tcp.TcpHeader;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.TunChannel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;

/**
 * The test as the TCP peer at {@link NativeDevices#APP}:5001 of a kernel client that connects
 * through a TUN channel with VNET_HDR: it queues what the channel reads, answers the client's SYN
 * (no options: no window scaling, SACK or timestamps), and builds the peer's segments.
 */
final class KernelTcpPeer {
    static final int PORT = 5001;
    private static final int IP = Ipv4Header.MIN_LENGTH;

    private final BlockingQueue<byte[]> read = new LinkedBlockingQueue<>();
    private int clientPort;
    private long clientNext;
    /** The peer's next sequence number. */
    private long sequence = 7_000_000;
    private int identification = 100;

    /** Queues every packet the channel reads (virtio-net header and all) for {@link #nextRead}. */
    ChannelHandler reader() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf packet = (ByteBuf) msg;
                try {
                    read.add(ByteBufUtil.getBytes(packet));
                } finally {
                    packet.release();
                }
            }
        };
    }

    /** The next packet the channel read, its virtio-net header in front. */
    byte[] nextRead() throws InterruptedException {
        byte[] packet = read.poll(10, TimeUnit.SECONDS);
        assertNotNull(packet, "the kernel sent nothing for 10 s");
        return packet;
    }

    /** The IPv4 packet behind a read's virtio-net header. */
    static byte[] ipPacket(byte[] read) {
        return Arrays.copyOfRange(read, VirtioNetHeader.LENGTH, read.length);
    }

    /** Whether an IPv4 packet is TCP from the client with these flags (null: any) and some payload if asked. */
    boolean isFromClient(byte[] ip, Integer flags) {
        ByteBuf view = Unpooled.wrappedBuffer(ip);
        return Ipv4Header.version(view, 0) == 4 && Ipv4Header.protocol(view, 0) == TcpHeader.PROTOCOL
                && TcpHeader.destinationPort(view, IP) == PORT
                && (flags == null || TcpHeader.flags(view, IP) == flags)
                && (clientPort == 0 || TcpHeader.sourcePort(view, IP) == clientPort);
    }

    /** Connects {@code client} (bound to the kernel's address) to the peer, answering its SYN through {@code channel}. */
    void accept(TunChannel channel, Socket client) throws Exception {
        // Closed with a reset: a FIN nobody answers once the channel is gone would be retransmitted
        // for seconds, into whichever later test's device has these addresses.
        client.setSoLinger(true, 0);
        CompletableFuture<Void> connected = CompletableFuture.runAsync(() -> {
            try {
                client.connect(new InetSocketAddress(APP, PORT), 10_000);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        byte[] syn;
        do {
            syn = ipPacket(nextRead());
        } while (!isFromClient(syn, TcpHeader.SYN));
        ByteBuf view = Unpooled.wrappedBuffer(syn);
        clientPort = TcpHeader.sourcePort(view, IP);
        clientNext = TcpHeader.sequenceNumber(view, IP) + 1;
        channel.writeAndFlush(Unpooled.wrappedBuffer(segment(TcpHeader.SYN | TcpHeader.ACK, new byte[0]))).sync();
        sequence++;
        connected.get(10, TimeUnit.SECONDS);
    }

    /** Moves the acknowledgment past {@code ip}'s payload when it is the client's next data; returns that payload length. */
    int acknowledge(byte[] ip) {
        ByteBuf view = Unpooled.wrappedBuffer(ip);
        int payload = Ipv4Header.totalLength(view, 0) - IP - TcpHeader.headerLength(view, IP);
        if (TcpHeader.sequenceNumber(view, IP) == clientNext) {
            clientNext = (clientNext + payload) & 0xFFFF_FFFFL;
        }
        return payload;
    }

    /**
     * The peer's next segment: the next identification and sequence number (the sequence moves on
     * by the payload), acknowledging what the client sent; DF set, checksums computed.
     */
    byte[] segment(int flags, byte[] payload) {
        Ipv4Repr ip = new Ipv4Repr().source(APP).destination(KERNEL).protocol(TcpHeader.PROTOCOL).ttl(64)
                .identification(identification++ & 0xFFFF).dontFragment(true);
        int transportLength = TcpHeader.MIN_LENGTH + payload.length;
        ByteBuf packet = Unpooled.buffer(IP + transportLength);
        try {
            ip.emit(packet, 0, transportLength, true);
            packet.writerIndex(IP).writeShort(PORT).writeShort(clientPort).writeInt((int) sequence).writeInt((int) clientNext)
                    .writeByte(TcpHeader.MIN_LENGTH / 4 << 4).writeByte(flags).writeShort(65535).writeShort(0).writeShort(0)
                    .writeBytes(payload);
            long pseudo = InternetChecksum.pseudoHeaderSum(ip.source(), ip.destination(), TcpHeader.PROTOCOL, transportLength);
            TcpHeader.setChecksumField(packet, IP,
                    InternetChecksum.finish(InternetChecksum.add(pseudo, packet, IP, transportLength)));
            sequence += payload.length;
            return ByteBufUtil.getBytes(packet);
        } finally {
            packet.release();
        }
    }
}
