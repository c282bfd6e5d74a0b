package org.tuntap.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6ExtensionWalker;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.codec.udp.UdpPackets;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * IPv4/UDP decode and encode, per packet, at three payload sizes, both as the pipeline handlers
 * a user adds ({@code Ipv4Codec} + {@code UdpCodec} on a channel) and as the bare header
 * arithmetic (views and representations, no pipeline). Baseline measured in the same run: a
 * plain copy of the whole packet into a fresh pooled buffer.
 *
 * <p>The pipeline runs on an {@link EmbeddedChannel} driven directly through
 * {@code pipeline().fireChannelRead} and {@code writeAndFlush(msg, voidPromise())}, so the figures hold
 * the codecs plus Netty's handler dispatch, not EmbeddedChannel's test bookkeeping. Both
 * checksums are verified on decode and computed on encode (the default policy).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class CodecBenchmark {

    @Param({"64", "512", "1400"})
    public int payloadSize;

    private static final InetSocketAddress LOCAL = new InetSocketAddress("192.0.2.2", 7);
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.1", 40000);

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf wire;
    private ByteBuf payload;
    private ByteBuf headerScratch;
    private Ipv4Repr repr;
    private ByteBuf wire6;
    private final Ipv6Repr repr6 = new Ipv6Repr().nextHeader(Ipv6Header.PROTOCOL_UDP);
    private final Ipv6ExtensionWalker walker6 = new Ipv6ExtensionWalker();
    private EmbeddedChannel decodeOnly;
    private EmbeddedChannel echo;
    private EmbeddedChannel encodeOnly;
    private Blackhole blackhole;
    private DefaultEventLoop loop;
    private Runnable echoBatch;
    static final int BATCH = 256;

    /** Hands each datagram to the blackhole and releases it: an application that consumes. */
    private final class Sink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            blackhole.consume(msg);
            ReferenceCountUtil.release(msg);
        }
    }

    /** Writes each datagram back to its sender: the UDP echo a user would write. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket in = (DatagramPacket) msg;
            ctx.writeAndFlush(new DatagramPacket(in.content(), in.sender(), in.recipient()), ctx.voidPromise());
        }
    }

    @Setup(Level.Trial)
    public void setUp(Blackhole blackhole) {
        this.blackhole = blackhole;
        payload = alloc.directBuffer(payloadSize);
        for (int i = 0; i < payloadSize; i++) {
            payload.writeByte(i);
        }
        wire = UdpPackets.build(alloc, PEER, LOCAL, payload);
        ByteBuf direct = alloc.directBuffer(wire.readableBytes()).writeBytes(wire);
        wire.release();
        wire = direct;
        headerScratch = alloc.directBuffer(64);
        // The same datagram over IPv6, 2001:db8::1:40000 -> 2001:db8::2:7.
        wire6 = alloc.directBuffer(Ipv6Header.LENGTH + UdpHeader.LENGTH + payloadSize);
        new Ipv6Repr().source(0x20010db8_00000000L, 1).destination(0x20010db8_00000000L, 2).nextHeader(Ipv6Header.PROTOCOL_UDP)
                .emit(wire6, 0, UdpHeader.LENGTH + payloadSize);
        UdpHeader.setIpv6(wire6, Ipv6Header.LENGTH, 0x20010db8_00000000L, 1, 0x20010db8_00000000L, 2, 40000, 7,
                payload, payload.readerIndex(), payloadSize, true);
        wire6.writerIndex(Ipv6Header.LENGTH + UdpHeader.LENGTH).writeBytes(payload, payload.readerIndex(), payloadSize);
        repr = new Ipv4Repr().source(0xc0000202).destination(0xc0000201).protocol(17);
        decodeOnly = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec(), new Sink());
        echo = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec(), new Echo());
        encodeOnly = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec());
        loop = new DefaultEventLoop();
        EmbeddedChannel loopEcho = new EmbeddedChannel(new Ipv4Codec(), new UdpCodec(), new Echo());
        echoBatch = () -> {
            for (int i = 0; i < BATCH; i++) {
                loopEcho.pipeline().fireChannelRead(wire.retainedDuplicate());
                ByteBuf out = loopEcho.readOutbound();
                blackhole.consume(out);
                out.release();
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decodeOnly.finishAndReleaseAll();
        echo.finishAndReleaseAll();
        encodeOnly.finishAndReleaseAll();
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        wire.release();
        payload.release();
        headerScratch.release();
        wire6.release();
    }

    /** Packet in, DatagramPacket out to the application (which releases it). */
    @Benchmark
    public void pipelineDecode() {
        decodeOnly.pipeline().fireChannelRead(wire.retainedDuplicate());
    }

    /** DatagramPacket written by the application, IPv4 packet out of the pipeline. */
    @Benchmark
    public void pipelineEncode() {
        encodeOnly.writeAndFlush(new DatagramPacket(payload.retainedDuplicate(), PEER, LOCAL), encodeOnly.voidPromise());
        ByteBuf out = encodeOnly.readOutbound();
        blackhole.consume(out);
        out.release();
    }

    /** Decode + encode: a packet in, the echo handler's reply out (the 64-byte target). */
    @Benchmark
    public void pipelineDecodeEncode() {
        echo.pipeline().fireChannelRead(wire.retainedDuplicate());
        ByteBuf out = echo.readOutbound();
        blackhole.consume(out);
        out.release();
    }

    /**
     * {@link #pipelineDecodeEncode} run on a Netty event-loop thread (a FastThreadLocalThread),
     * {@value #BATCH} packets per task. There, as in a real {@code TunChannel}, Netty 4.2's
     * Recycler pools derived buffers and outbound-buffer entries, which it does not on the
     * plain JMH thread. Score is per packet.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void pipelineDecodeEncodeOnEventLoop() {
        loop.submit(echoBatch).syncUninterruptibly();
    }

    /** The header arithmetic of decode alone: validate IPv4 and UDP (checksums verified). */
    @Benchmark
    public int viewsDecode() {
        ByteBuf p = wire;
        int at = p.readerIndex();
        int length = p.readableBytes();
        if (Ipv4Header.check(p, at, length, true) != null) {
            throw new AssertionError();
        }
        int udp = at + Ipv4Header.headerLength(p, at);
        if (UdpHeader.check(p, udp, length - (udp - at), Ipv4Header.source(p, at), Ipv4Header.destination(p, at), true) != null) {
            throw new AssertionError();
        }
        return UdpHeader.destinationPort(p, udp);
    }

    /** The header arithmetic of encode alone: IPv4 and UDP headers with both checksums, into a reused buffer. */
    @Benchmark
    public ByteBuf reprEncode() {
        ByteBuf h = headerScratch;
        repr.emit(h, 0, UdpHeader.LENGTH + payloadSize, true);
        UdpHeader.set(h, 20, 0xc0000202, 0xc0000201, 7, 40000, payload, true);
        return h;
    }

    /**
     * Decode + encode without a pipeline: validate the packet (both checksums), then build the
     * reply's IPv4 and UDP headers (both checksums, the UDP one over the received payload in
     * place) into a reused header buffer. The codec's own cost per packet; allocates nothing.
     */
    @Benchmark
    public ByteBuf viewsDecodeReprEncode() {
        ByteBuf p = wire;
        int at = p.readerIndex();
        int length = p.readableBytes();
        if (Ipv4Header.check(p, at, length, true) != null) {
            throw new AssertionError();
        }
        int udp = at + Ipv4Header.headerLength(p, at);
        int source = Ipv4Header.source(p, at);
        int destination = Ipv4Header.destination(p, at);
        if (UdpHeader.check(p, udp, length - (udp - at), source, destination, true) != null) {
            throw new AssertionError();
        }
        int payloadIndex = udp + UdpHeader.LENGTH;
        int payloadLength = UdpHeader.length(p, udp) - UdpHeader.LENGTH;
        ByteBuf h = headerScratch;
        repr.source(destination).destination(source).emit(h, 0, UdpHeader.LENGTH + payloadLength, true);
        UdpHeader.set(h, 20, destination, source, UdpHeader.destinationPort(p, udp), UdpHeader.sourcePort(p, udp),
                p, payloadIndex, payloadLength, true);
        return h;
    }

    /**
     * {@link #viewsDecodeReprEncode} over IPv6: check the fixed header, walk the (empty)
     * extension chain, verify the UDP checksum over the IPv6 pseudo-header, then build the
     * reply's IPv6 and UDP headers into a reused header buffer. Allocates nothing.
     */
    @Benchmark
    public ByteBuf viewsDecodeReprEncodeIpv6() {
        ByteBuf p = wire6;
        int at = p.readerIndex();
        if (Ipv6Header.check(p, at, p.readableBytes()) != null || walker6.walk(p, at) != null
                || walker6.upperLayerProtocol() != Ipv6Header.PROTOCOL_UDP) {
            throw new AssertionError();
        }
        int udp = at + walker6.upperLayerOffset();
        int available = Ipv6Header.LENGTH + Ipv6Header.payloadLength(p, at) - walker6.upperLayerOffset();
        if (UdpHeader.checkIpv6(p, udp, available, at, true) != null) {
            throw new AssertionError();
        }
        long sourceHigh = Ipv6Header.sourceHigh(p, at);
        long sourceLow = Ipv6Header.sourceLow(p, at);
        long destinationHigh = Ipv6Header.destinationHigh(p, at);
        long destinationLow = Ipv6Header.destinationLow(p, at);
        int payloadIndex = udp + UdpHeader.LENGTH;
        int payloadLength = UdpHeader.length(p, udp) - UdpHeader.LENGTH;
        ByteBuf h = headerScratch;
        repr6.source(destinationHigh, destinationLow).destination(sourceHigh, sourceLow)
                .emit(h, 0, UdpHeader.LENGTH + payloadLength);
        UdpHeader.setIpv6(h, Ipv6Header.LENGTH, destinationHigh, destinationLow, sourceHigh, sourceLow,
                UdpHeader.destinationPort(p, udp), UdpHeader.sourcePort(p, udp), p, payloadIndex, payloadLength, true);
        return h;
    }

    /** Baseline: copy the whole packet into a new pooled buffer and release it. */
    @Benchmark
    public void baselineCopyPacket() {
        ByteBuf copy = alloc.directBuffer(wire.readableBytes());
        copy.writeBytes(wire, wire.readerIndex(), wire.readableBytes());
        blackhole.consume(copy);
        copy.release();
    }
}
