package org.tuntap.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.PreferHeapByteBufAllocator;
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
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.examples.EchoPipeline;
import org.tuntap.examples.UdpEchoHandler;
import org.tuntap.testkit.MemoryIoHandler;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.Tunnel;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The examples' UDP echo through the whole pipeline (TunChannel → IPv4 → UDP → echo and back)
 * over the in-memory tunnel, on one thread: a batch of packets goes into the tunnel, the loop
 * runs until idle, the echoes come out. Packets per second = ops/s.
 *
 * <p>Baseline in the same run ({@code pipeline=raw}): the same channel and tunnel with a handler
 * that writes each packet back untouched, so {@code codecs / raw} is what decoding, the echo
 * handler and encoding cost on top of moving the packets.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class InMemoryEchoBenchmark {
    static final int BATCH = 64;

    @Param({"64", "1400"})
    public int payload;

    @Param({"codecs", "raw"})
    public String pipeline;

    /**
     * Where the channel reads packets: {@code heap} as {@code udp-echo native} does
     * ({@code PreferHeapByteBufAllocator}), {@code direct} Netty's default {@code ioBuffer}.
     */
    @Param({"heap", "direct"})
    public String buffers;

    private ManualIoEventLoop loop;
    private TunChannel channel;
    private Tunnel tunnel;
    private byte[] packet;

    /** The baseline's handler: the packet goes back as it came. */
    static final class RawEcho extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Inet4Address echoAddress = (Inet4Address) InetAddress.getByName("198.51.100.2");
        MemoryIoSystem system = new MemoryIoSystem();
        loop = new ManualIoEventLoop(Thread.currentThread(), MemoryIoHandler.newFactory());
        channel = new TunChannel(system);
        channel.config().setMaxPacketSize(2048).setReadBudget(BATCH);
        if (buffers.equals("heap")) {
            channel.config().setAllocator(new PreferHeapByteBufAllocator(ByteBufAllocator.DEFAULT));
        }
        channel.pipeline().addLast(pipeline.equals("codecs")
                ? new EchoPipeline(new UdpEchoHandler(), MacAddress.randomLocal(), List.of(echoAddress), null)
                : new RawEcho());
        loop.register(channel);
        runUntilIdle();
        channel.bind(new TunAddress("tun%d"));
        runUntilIdle();
        if (!channel.isActive()) {
            throw new IllegalStateException("channel did not bind");
        }
        tunnel = system.tunnel(channel.fd());
        ByteBuf datagram = UdpPackets.build(UnpooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("192.0.2.1", 40000), new InetSocketAddress(echoAddress, 7),
                Unpooled.wrappedBuffer(new byte[payload]));
        packet = ByteBufUtil.getBytes(datagram);
        datagram.release();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int echo() {
        for (int i = 0; i < BATCH; i++) {
            tunnel.addToReadBuffer(packet);
        }
        runUntilIdle();
        int echoed = 0;
        while (tunnel.pollWritten() != null) {
            echoed++;
        }
        if (echoed != BATCH) {
            throw new IllegalStateException("echoed " + echoed + " of " + BATCH);
        }
        return echoed;
    }

    private void runUntilIdle() {
        while (loop.runNow() > 0) {
            // until no task and no ready I/O is left
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.close();
        runUntilIdle();
        loop.shutdown();
        runUntilIdle();
    }
}
