// mock: prism
// Speech to text: upload an audio file from disk with fs.createReadStream.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'aiwire';

const client = new OpenAI();

// A tiny (silent) WAV file stands in for a recording.
const file = path.join(os.tmpdir(), `aiwire-recording-${process.pid}.wav`);
const pcm = Buffer.alloc(1600);
const header = Buffer.alloc(44);
header.write('RIFF', 0);
header.writeUInt32LE(36 + pcm.length, 4);
header.write('WAVEfmt ', 8);
header.writeUInt32LE(16, 16);
header.writeUInt16LE(1, 20);
header.writeUInt16LE(1, 22);
header.writeUInt32LE(8000, 24);
header.writeUInt32LE(16000, 28);
header.writeUInt16LE(2, 32);
header.writeUInt16LE(16, 34);
header.write('data', 36);
header.writeUInt32LE(pcm.length, 40);
fs.writeFileSync(file, Buffer.concat([header, pcm]));

try {
  const transcription = await client.audio.transcriptions.create({
    file: fs.createReadStream(file),
    model: 'gpt-4o-transcribe',
  });
  console.log('text:', transcription.text);
  if (typeof transcription.text !== 'string') throw new Error('no text in the transcription');
} finally {
  fs.rmSync(file, { force: true });
}
